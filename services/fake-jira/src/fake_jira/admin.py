"""Health, and the admin API tests and benchmarks use (`/_admin/*`, outside /rest)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field

from fake_jira.guard import state_of
from fake_jira.state import FakeJiraState

router = APIRouter()


class Tunables(BaseModel):
    """Run-time changes to limits and faults; omitted fields keep their value."""

    model_config = ConfigDict(extra="forbid")

    rate_limit: float | None = Field(default=None, ge=0)
    burst: int | None = Field(default=None, ge=1)
    latency_ms: float | None = Field(default=None, ge=0)
    latency_jitter_ms: float | None = Field(default=None, ge=0)
    error_rate: float | None = Field(default=None, ge=0, le=1)
    error_statuses: list[int] | None = None


def settings_snapshot(state: FakeJiraState) -> dict[str, Any]:
    """The run-time tunables and data set identity as JSON."""
    return {
        "rate_limit": state.buckets.rate,
        "burst": state.buckets.capacity,
        "latency_ms": state.faults.latency_ms,
        "latency_jitter_ms": state.faults.jitter_ms,
        "error_rate": state.faults.error_rate,
        "error_statuses": list(state.faults.statuses),
        "issues": len(state.dataset.issues),
        "projects": [key for key, _, _ in state.dataset.projects],
        "seed": state.config.seed,
        "anchor_ms": state.dataset.anchor_ms,
    }


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    """Liveness."""
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> dict[str, Any]:
    """Readiness: the data set is built before the app accepts requests."""
    return {"status": "ready", "issues": len(state_of(request).dataset.issues)}


@router.get("/_admin/stats")
async def stats(request: Request) -> dict[str, Any]:
    """Request counters: totals, 429s, injected faults, per status/endpoint/account."""
    return state_of(request).stats.snapshot()


@router.post("/_admin/reset")
async def reset(request: Request) -> dict[str, Any]:
    """Zero the counters and refill every rate-limit bucket."""
    state = state_of(request)
    state.reset()
    return state.stats.snapshot()


@router.get("/_admin/config")
async def get_config(request: Request) -> dict[str, Any]:
    """The current tunables."""
    return settings_snapshot(state_of(request))


@router.patch("/_admin/config")
async def patch_config(request: Request, body: Annotated[Tunables, Body()]) -> dict[str, Any]:
    """Change limits or faults while running (e.g. start a 429 storm mid-test)."""
    state = state_of(request)
    if body.rate_limit is not None or body.burst is not None:
        rate = state.buckets.rate if body.rate_limit is None else body.rate_limit
        burst = body.burst
        if burst is None:
            # A new rate without a burst gets one second's worth, like at start-up.
            burst = max(1, round(rate)) if body.rate_limit is not None else state.buckets.capacity
        state.buckets.configure(rate, burst)
    faults = state.faults
    if body.latency_ms is not None:
        faults.latency_ms = body.latency_ms
    if body.latency_jitter_ms is not None:
        faults.jitter_ms = body.latency_jitter_ms
    if body.error_rate is not None:
        faults.error_rate = body.error_rate
    if body.error_statuses:
        faults.statuses = tuple(body.error_statuses)
    return settings_snapshot(state)
