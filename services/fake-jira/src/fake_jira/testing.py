"""Run the emulator in-process on a free loopback port: a public API for other packages'
tests and benchmarks (it imports neither pytest nor rita_testing).

    from fake_jira.testing import DEV_EMAIL, DEV_TOKEN, running_fake_jira

    async with running_fake_jira(issues=2000, rate_limit=20) as base_url:
        ...  # httpx against f"{base_url}/rest/api/3/myself", auth (DEV_EMAIL, DEV_TOKEN)

`running_fake_jira_server` yields a handle with the state too (counters, run-time tunables,
the gate).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from emulator.server import RunningEmulator, serve_emulator
from emulator.settings import overridden
from fake_jira.app import create_app
from fake_jira.config import FakeJiraConfig
from fake_jira.state import FakeJiraState

DEV_EMAIL = "admin@example.com"
DEV_TOKEN = "fake-jira-token"  # noqa: S105 - the emulator's published development account


@dataclass
class RunningFakeJira(RunningEmulator):
    """A started emulator: its URL, core (`stats()`, `reset()`, `configure()`, `gate`) and state."""

    state: FakeJiraState


@contextlib.asynccontextmanager
async def running_fake_jira_server(
    config: FakeJiraConfig | None = None,
    *,
    monotonic: Callable[[], float] = time.monotonic,
    **overrides: Any,
) -> AsyncIterator[RunningFakeJira]:
    """Serve the emulator on 127.0.0.1:<free port> in this event loop until the block exits.

    Keyword overrides (`issues=...`) are config fields applied on top of `config` (or of the
    environment's `FAKE_JIRA_*`); `monotonic` is the limiter's and the site's clock.
    """
    app = create_app(overridden(config, FakeJiraConfig, overrides), monotonic=monotonic)
    state: FakeJiraState = app.state.fake_jira
    async with serve_emulator(app, lambda url: RunningFakeJira(url, state.core, state)) as running:
        yield running


@contextlib.asynccontextmanager
async def running_fake_jira(
    config: FakeJiraConfig | None = None, **overrides: Any
) -> AsyncIterator[str]:
    """Like `running_fake_jira_server`, yielding only the base URL."""
    async with running_fake_jira_server(config, **overrides) as running:
        yield running.base_url
