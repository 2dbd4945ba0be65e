"""Run the emulator in-process on a free loopback port, for other packages' tests and benches.

    from fake_jira.config import FakeJiraConfig
    from fake_jira.testing import running_fake_jira

    async with running_fake_jira(FakeJiraConfig(issues=2000, rate_limit=20)) as base_url:
        ...  # httpx against f"{base_url}/rest/api/3/myself", auth admin@example.com:fake-jira-token

`running_fake_jira_server` yields a handle with the state too (counters, run-time tunables).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import uvicorn

from fake_jira.admin import settings_snapshot
from fake_jira.app import create_app
from fake_jira.config import FakeJiraConfig
from fake_jira.state import FakeJiraState

DEV_EMAIL = "admin@example.com"
DEV_TOKEN = "fake-jira-token"  # noqa: S105 - the emulator's published development account


@dataclass
class RunningFakeJira:
    """A started emulator: its URL and its live state."""

    base_url: str
    state: FakeJiraState

    def stats(self) -> dict[str, Any]:
        """The same counters as `GET /_admin/stats`."""
        return self.state.stats.snapshot()

    def reset(self) -> None:
        """Zero the counters and refill the rate-limit buckets."""
        self.state.reset()

    def configure(
        self,
        *,
        rate_limit: float | None = None,
        burst: int | None = None,
        latency_ms: float | None = None,
        error_rate: float | None = None,
    ) -> dict[str, Any]:
        """Change limits or faults while running (same as `PATCH /_admin/config`)."""
        if rate_limit is not None or burst is not None:
            rate = self.state.buckets.rate if rate_limit is None else rate_limit
            self.state.buckets.configure(rate, burst or max(1, round(rate)))
        if latency_ms is not None:
            self.state.faults.latency_ms = latency_ms
        if error_rate is not None:
            self.state.faults.error_rate = error_rate
        return settings_snapshot(self.state)


@contextlib.asynccontextmanager
async def running_fake_jira_server(
    config: FakeJiraConfig | None = None, **overrides: Any
) -> AsyncIterator[RunningFakeJira]:
    """Serve the emulator on 127.0.0.1:<free port> in this event loop until the block exits."""
    if config is None:
        config = FakeJiraConfig(**overrides)
    elif overrides:
        config = config.model_copy(update=overrides)
    app = create_app(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=2
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # start-up failed: raise its error
            await asyncio.sleep(0.01)
        yield RunningFakeJira(f"http://127.0.0.1:{port}", app.state.fake_jira)
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.asynccontextmanager
async def running_fake_jira(
    config: FakeJiraConfig | None = None, **overrides: Any
) -> AsyncIterator[str]:
    """Like `running_fake_jira_server`, yielding only the base URL."""
    async with running_fake_jira_server(config, **overrides) as running:
        yield running.base_url
