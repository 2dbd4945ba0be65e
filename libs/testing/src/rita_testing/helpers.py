"""The helpers every part's tests use: a free loopback port, waiting for a condition, and a
clock the test moves by hand."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

DEFAULT_WITHIN_SECONDS = 15.0
# How often `eventually` looks again: short against the events awaited (tens of ms), long
# enough not to busy the shared 2-core machine.
POLL_SECONDS = 0.02


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment of the call."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def eventually(
    check: Callable[[], bool | Awaitable[bool]],
    within: float = DEFAULT_WITHIN_SECONDS,
    *,
    what: str = "condition",
) -> None:
    """Poll `check` (sync or async) until it is true; `AssertionError` after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {within} s")
        await asyncio.sleep(POLL_SECONDS)


# A documentation-free public address (not in any private, loopback or reserved range).
PUBLIC_TEST_ADDRESS = "93.184.215.14"


def public_stub_resolver(host: str, port: int) -> list[str]:
    """The API's SSRF check in tests: every name resolves to one public address, no DNS query
    leaves the machine (the API never connects there: its webhooks go to the test receiver)."""
    return [PUBLIC_TEST_ADDRESS]


@dataclass
class ManualClock:
    """A monotonic clock that stands still until the test sets or advances `now`, for code
    that takes its clock as a `() -> float` (limiters, caches): time passes without sleeping."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


class _HasLifespan(Protocol):
    def start_lifespan_context(self) -> contextlib.AbstractAsyncContextManager[Any]: ...


_App = TypeVar("_App", bound=_HasLifespan)
LIFESPAN_START_SECONDS = 30.0


@contextlib.asynccontextmanager
async def lifespan_running(app: _App) -> AsyncIterator[_App]:
    """Run `app`'s lifespan (a FastStream `AsgiFastStream`) for the block, in a task of its own.

    The lifespan holds an anyio task group, which must be entered and exited in one task: the
    block runs beside it, and leaving the block ends the lifespan (a graceful stop)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        async with app.start_lifespan_context():
            started.set()
            await stop.wait()

    task = asyncio.create_task(serve())
    try:
        waiting = asyncio.create_task(started.wait())
        await asyncio.wait(
            {task, waiting}, timeout=LIFESPAN_START_SECONDS, return_when="FIRST_COMPLETED"
        )
        if not started.is_set():
            waiting.cancel()
            if task.done():
                task.result()  # the start-up failed: raise its error
            raise TimeoutError(f"lifespan did not start within {LIFESPAN_START_SECONDS} s")
        yield app
    finally:
        stop.set()
        await task
