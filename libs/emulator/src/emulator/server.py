"""Start-up: uvicorn as a process (the console scripts) or in the caller's event loop.

`serve_in_process` is the documented way for tests and benchmarks to run an emulator on a free
loopback port; it imports nothing test-specific (no pytest, no rita_testing).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import structlog
import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp

from emulator.core import EmulatorCore, Tunables
from emulator.gate import Gate
from emulator.settings import EmulatorSettings
from emulator.tls import TlsFiles, generate
from observability import configure_observability, instrument_fastapi

log = structlog.get_logger(__name__)


def tls_files(settings: EmulatorSettings) -> TlsFiles | None:
    """Generate the throwaway certificates when `settings.tls` asks for HTTPS."""
    if not settings.tls:
        return None
    files = generate(ca_file=Path(settings.tls_ca_file) if settings.tls_ca_file else None)
    # A bench or client finds the authority to trust here (or passes --tls-ca-file).
    log.info("tls_ready", ca_file=str(files.ca_file))
    return files


def run(app: ASGIApp, settings: EmulatorSettings, tls: TlsFiles | None = None) -> None:
    """Serve until SIGTERM/SIGINT; uvicorn finishes in-flight requests, then exits."""
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
        ssl_certfile=str(tls.cert_file) if tls else None,
        ssl_keyfile=str(tls.key_file) if tls else None,
    )


S = TypeVar("S", bound=EmulatorSettings)


def start(service: str, settings: S, create_app: Callable[[S], FastAPI]) -> None:
    """A console script's body: structured logs and traces as `service`, the certificates when
    `--tls` asks for them, then the app served until SIGTERM."""
    configure_observability(service, level=settings.log_level, fmt=settings.log_format)
    tls = tls_files(settings)
    app = create_app(settings)
    instrument_fastapi(app)
    run(app, settings, tls)


@contextlib.asynccontextmanager
async def serve_in_process(app: ASGIApp, *, tls: TlsFiles | None = None) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1:<free port> in this event loop; yield its base URL.

    The server stops (held gate requests are released first by the caller's reset, or cut at
    the graceful-shutdown timeout) when the block exits.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
            ssl_certfile=str(tls.cert_file) if tls else None,
            ssl_keyfile=str(tls.key_file) if tls else None,
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # start-up failed: raise its error
            await asyncio.sleep(0.01)
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass
class RunningEmulator:
    """An emulator served in-process: its URL and its core (counters, tunables, gate).

    Each emulator's `testing` module subclasses it to add its own state.
    """

    base_url: str
    core: EmulatorCore

    def stats(self) -> dict[str, Any]:
        """The same counters as `GET /_admin/stats`."""
        return self.core.stats_snapshot()

    def reset(self) -> None:
        """Zero the counters, refill the rate-limit buckets and open the gate."""
        self.core.reset()

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change limits or faults while running (same keys as `PATCH /_admin/config`:
        rate_limit, burst, latency_ms, latency_jitter_ms, error_rate, error_statuses)."""
        return self.core.configure(Tunables(**changes))

    @property
    def gate(self) -> Gate:
        """The gate holding page responses (close, release, open, `await wait_held()`)."""
        return self.core.gate


R = TypeVar("R", bound=RunningEmulator)


@contextlib.asynccontextmanager
async def serve_emulator(app: ASGIApp, handle: Callable[[str], R]) -> AsyncIterator[R]:
    """`serve_in_process`, yielding `handle(base_url)`; on exit the gate opens first, so held
    requests finish before the server stops (each emulator's `testing` module builds on this)."""
    async with serve_in_process(app) as base_url:
        running = handle(base_url)
        try:
            yield running
        finally:
            running.gate.open()
