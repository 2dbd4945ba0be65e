"""Health, metrics and the `/_admin` API every emulator serves (no auth, outside the API).

- `GET /_admin/stats`, `POST /_admin/reset` (counters, buckets, gate)
- `GET|PATCH /_admin/config` (rate limit, burst, latency, jitter, error rate and statuses)
- `GET /_admin/gate`, `POST /_admin/gate/close` `{"after": n}`, `POST /_admin/gate/release`
  `{"count": n}`, `POST /_admin/gate/open`, `GET /_admin/gate/held?count=1&timeout=30`
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from emulator.core import Tunables, core_of
from observability import metrics_response


class GateClose(BaseModel):
    """Close the gate after letting `after` more page requests through."""

    model_config = ConfigDict(extra="forbid")

    after: int = Field(default=0, ge=0)


class GateRelease(BaseModel):
    """Let `count` held (or future) page requests through."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=1, ge=1)


def admin_router(readiness: Callable[[Request], dict[str, Any]]) -> APIRouter:
    """The shared routes; `readiness(request)` adds the data set's size to `/readyz`."""
    router = APIRouter()

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> dict[str, Any]:
        # The data set is built before the app accepts connections.
        return {"status": "ready"} | readiness(request)

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        return metrics_response(request, core_of(request).metrics.registry)

    @router.get("/_admin/stats")
    async def stats(request: Request) -> dict[str, Any]:
        """Request counters: totals, 429s, injected faults, per status/endpoint/account."""
        return core_of(request).stats_snapshot()

    @router.post("/_admin/reset")
    async def reset(request: Request) -> dict[str, Any]:
        """Zero the counters, refill every rate-limit bucket and open the gate."""
        core = core_of(request)
        core.reset()
        return core.stats_snapshot()

    @router.get("/_admin/config")
    async def get_config(request: Request) -> dict[str, Any]:
        """The current tunables."""
        return core_of(request).tunables()

    @router.patch("/_admin/config")
    async def patch_config(request: Request, body: Annotated[Tunables, Body()]) -> dict[str, Any]:
        """Change limits or faults while running (e.g. start a 429 storm mid-test)."""
        return core_of(request).configure(body)

    @router.get("/_admin/gate")
    async def gate(request: Request) -> dict[str, Any]:
        """Whether page requests are held, and how many are waiting."""
        return core_of(request).gate.snapshot()

    @router.post("/_admin/gate/close")
    async def gate_close(
        request: Request, body: Annotated[GateClose | None, Body()] = None
    ) -> dict[str, Any]:
        """Hold page requests (after letting `after` more through)."""
        gate = core_of(request).gate
        gate.close((body or GateClose()).after)
        return gate.snapshot()

    @router.post("/_admin/gate/release")
    async def gate_release(
        request: Request, body: Annotated[GateRelease | None, Body()] = None
    ) -> dict[str, Any]:
        """Let `count` more page requests through and stay closed."""
        gate = core_of(request).gate
        gate.release((body or GateRelease()).count)
        return gate.snapshot()

    @router.post("/_admin/gate/open")
    async def gate_open(request: Request) -> dict[str, Any]:
        """Let everything through, held requests included."""
        gate = core_of(request).gate
        gate.open()
        return gate.snapshot()

    @router.get("/_admin/gate/held")
    async def gate_held(
        request: Request,
        count: Annotated[int, Query(ge=1)] = 1,
        within: Annotated[float, Query(alias="timeout", gt=0, le=300)] = 30.0,
    ) -> Response:
        """Answer once `count` page requests are held (408 if that takes over `timeout` s)."""
        gate = core_of(request).gate
        held = await gate.wait_held(count, within)
        return JSONResponse(gate.snapshot(), status_code=200 if held else 408)

    return router
