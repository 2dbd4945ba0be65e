"""Run the emulator in-process on a free loopback port: a public API for other packages'
tests and benchmarks (it imports neither pytest nor rita_testing).

    from fake_servicenow.testing import DEV_USER, DEV_PASSWORD, running_fake_servicenow

    async with running_fake_servicenow(incidents=500, rate_limit=20) as snow:
        snow.base_url  # "http://127.0.0.1:<port>"
        snow.state.churn(5)  # or over HTTP: POST /_admin/churn
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from emulator.server import RunningEmulator, serve_emulator
from emulator.settings import overridden
from fake_servicenow.app import create_app
from fake_servicenow.config import (
    DEV_PASSWORD,
    DEV_USER,
    NO_INCIDENTS_PASSWORD,
    NO_INCIDENTS_USER,
    FakeServiceNowSettings,
)
from fake_servicenow.state import FakeServiceNowState

__all__ = [
    "DEV_PASSWORD",
    "DEV_USER",
    "NO_INCIDENTS_PASSWORD",
    "NO_INCIDENTS_USER",
    "RunningFakeServiceNow",
    "running_fake_servicenow",
]


@dataclass
class RunningFakeServiceNow(RunningEmulator):
    """A started emulator: its URL, core (`stats()`, `reset()`, `configure()`, `gate`) and state
    (`state.churn(n)`, `state.churn_per_page`, `state.dataset`)."""

    state: FakeServiceNowState


@contextlib.asynccontextmanager
async def running_fake_servicenow(
    settings: FakeServiceNowSettings | None = None,
    *,
    monotonic: Callable[[], float] = time.monotonic,
    **overrides: Any,
) -> AsyncIterator[RunningFakeServiceNow]:
    """Serve the emulator on 127.0.0.1:<free port> in this event loop until the block exits.

    Keyword overrides (`incidents=...`) are settings fields applied on top of `settings` (or
    of the environment's `FAKE_SERVICENOW_*`); `monotonic` is the limiter's and instance's clock.
    """
    app = create_app(overridden(settings, FakeServiceNowSettings, overrides), monotonic=monotonic)
    state: FakeServiceNowState = app.state.fake_servicenow
    async with serve_emulator(
        app, lambda url: RunningFakeServiceNow(url, state.core, state)
    ) as running:
        yield running
