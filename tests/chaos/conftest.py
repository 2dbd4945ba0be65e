"""The chaos suite: real processes, killed and restarted; real servers, cut off and brought back.

Each test owns its processes (on free ports), database, queue names and Redis prefix, and where a
test restarts Redis it starts a redis-server of its own: the shared servers are never touched.
Each test reports one or more rows (figure beside goal), printed as a table at the end of the run;
`make chaos` runs every test, `make test` the fast ones (those not marked `chaos_slow`).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from rita_testing.helpers import free_port

_ROWS: list[tuple[str, str, str, str]] = []


@dataclass(frozen=True)
class Row:
    """Adds a row to the run's chaos table: what was measured beside its goal."""

    test: str

    def __call__(self, figure: str, value: object, goal: str, *, met: bool) -> None:
        _ROWS.append((self.test, figure, f"{value}", f"{goal} {'✓' if met else '✗'}"))


@pytest.fixture
def chaos_row(request: pytest.FixtureRequest) -> Row:
    return Row(request.node.name)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _ROWS:
        return
    terminalreporter.section("chaos table")
    widths = [
        max(len(r[i]) for r in [("test", "figure", "value", "goal"), *_ROWS]) for i in range(4)
    ]
    for row in [("test", "figure", "value", "goal"), *_ROWS]:
        terminalreporter.write_line(
            " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
        )


@dataclass
class OwnRedis:
    """A redis-server of the test's own: it may be stopped and started without harm to others."""

    port: int
    directory: Path
    persistent: bool
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if self.persistent
            else ["--save", "", "--appendonly", "no"]
        )
        self.process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
            [
                shutil.which("redis-server") or "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                *persistence,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = aioredis.from_url(self.url)
        try:
            for _ in range(200):
                with contextlib.suppress(Exception):
                    if await client.ping():
                        return
                await asyncio.sleep(0.05)
            raise RuntimeError("own redis-server did not start")
        finally:
            await client.aclose()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
async def own_redis_factory() -> AsyncIterator[Callable[[bool], OwnRedis]]:
    servers: list[OwnRedis] = []

    def factory(persistent: bool) -> OwnRedis:
        server = OwnRedis(free_port(), Path(tempfile.mkdtemp(prefix="rita-redis-")), persistent)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)
