"""What every API request of an emulator goes through: latency, Basic auth, burst limit, 5xx.

Each emulator owns one `EmulatorCore` (on `app.state.emulator`) and turns a `Refusal` into its
own error dialect (Jira's `errorMessages`, ServiceNow's `{"error": ..., "status": "failure"}`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from emulator.accounts import Account, BasicAuth
from emulator.gate import Gate
from emulator.limits import Decision, Faults, TokenBuckets
from emulator.settings import EmulatorSettings
from emulator.stats import Metrics, Stats

EXTRA_HEADERS = "emulator.headers"
RefusalReason = Literal["unauthorized", "rate_limited", "fault"]
LimitHeaders = Callable[[Decision], dict[str, str]]


class Refusal(Exception):
    """The request is refused before its endpoint runs; the emulator renders the body."""

    def __init__(
        self,
        status: int,
        reason: RefusalReason,
        *,
        decision: Decision | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, reason)
        self.status = status
        self.reason = reason
        self.decision = decision
        self.headers = headers or {}


class Tunables(BaseModel):
    """Run-time changes to limits and faults (`PATCH /_admin/config`); omitted keep their value."""

    model_config = ConfigDict(extra="forbid")

    rate_limit: float | None = Field(default=None, ge=0)
    burst: int | None = Field(default=None, ge=1)
    latency_ms: float | None = Field(default=None, ge=0)
    latency_jitter_ms: float | None = Field(default=None, ge=0)
    error_rate: float | None = Field(default=None, ge=0, le=1)
    error_statuses: list[Annotated[int, Field(ge=500, le=599)]] | None = None


def add_headers(request: Request, headers: dict[str, str]) -> None:
    """Headers the counting middleware copies onto whatever response the endpoint produces."""
    request.scope.setdefault(EXTRA_HEADERS, {}).update(headers)


class EmulatorCore:
    """Accounts, limiter, faults, gate, counters and metrics of one emulator app."""

    def __init__(
        self,
        settings: EmulatorSettings,
        *,
        metric_prefix: str,
        limit_headers: LimitHeaders,
        items_name: str = "items_served",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.auth = BasicAuth(settings.account_list())
        self.buckets = TokenBuckets(
            rate=settings.rate_limit, capacity=settings.bucket_size(), clock=clock
        )
        self.faults = Faults(
            latency_ms=settings.latency_ms,
            jitter_ms=settings.latency_jitter_ms,
            error_rate=settings.error_rate,
            statuses=settings.error_status_list(),
            seed=settings.seed,
        )
        self.gate = Gate()
        self.stats = Stats()
        self.metrics = Metrics(metric_prefix)
        self.limit_headers = limit_headers
        self.items_name = items_name
        # The data set's identity for `GET /_admin/config`; the emulator replaces it.
        self.describe: Callable[[], dict[str, Any]] = dict

    async def admit(self, request: Request) -> Account:
        """Latency, then authentication, then the burst limit, then an injected 5xx."""
        delay = self.faults.delay_seconds()
        if delay:
            await asyncio.sleep(delay)
        account = self.auth.authenticate(request.headers.get("authorization"))
        if account is None:
            raise Refusal(401, "unauthorized")
        self.stats.by_account[account.login] += 1
        decision = self.buckets.take(account.login.lower())
        if decision.limit:
            add_headers(request, self.limit_headers(decision))
        if not decision.allowed:
            self.metrics.rate_limited.inc()
            raise Refusal(429, "rate_limited", decision=decision)
        failure = self.faults.failure()
        if failure is not None:
            self.stats.faults += 1
            self.metrics.faults.inc()
            headers = {"Retry-After": "1"} if failure == 503 else {}
            raise Refusal(failure, "fault", headers=headers)
        return account

    def served(self, count: int) -> None:
        """Count records answered in a page."""
        self.stats.items_served += count

    def stats_snapshot(self) -> dict[str, Any]:
        """`GET /_admin/stats`."""
        return self.stats.snapshot(self.items_name)

    def reset(self) -> None:
        """Zero the counters, refill every bucket and open the gate."""
        self.stats = Stats()
        self.buckets.reset()
        self.gate.open()

    def configure(self, change: Tunables) -> dict[str, Any]:
        """Apply run-time changes; answer the new tunables."""
        if change.rate_limit is not None or change.burst is not None:
            rate = self.buckets.rate if change.rate_limit is None else change.rate_limit
            burst = change.burst
            if burst is None:
                # A new rate without a burst gets one second's worth, like at start-up.
                burst = max(1, round(rate)) if change.rate_limit is not None else None
            self.buckets.configure(rate, burst or self.buckets.capacity)
        if change.latency_ms is not None:
            self.faults.latency_ms = change.latency_ms
        if change.latency_jitter_ms is not None:
            self.faults.jitter_ms = change.latency_jitter_ms
        if change.error_rate is not None:
            self.faults.error_rate = change.error_rate
        if change.error_statuses:
            self.faults.statuses = tuple(change.error_statuses)
        return self.tunables()

    def tunables(self) -> dict[str, Any]:
        """The run-time tunables and the data set identity as JSON."""
        return {
            "rate_limit": self.buckets.rate,
            "burst": self.buckets.capacity,
            "latency_ms": self.faults.latency_ms,
            "latency_jitter_ms": self.faults.jitter_ms,
            "error_rate": self.faults.error_rate,
            "error_statuses": list(self.faults.statuses),
            "seed": self.settings.seed,
        } | self.describe()


def core_of(request: Request) -> EmulatorCore:
    """The app's emulator core."""
    core: EmulatorCore = request.app.state.emulator
    return core
