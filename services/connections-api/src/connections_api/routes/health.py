"""`/healthz` (alive), `/readyz` (database and Redis reachable), `/metrics` (Prometheus)."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from connections_api.deps import StateDep
from connections_api.errors import problem
from observability import metrics_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "A dependency is unreachable"}})
async def readyz(state: StateDep) -> Response:
    """Ready when PostgreSQL and Redis answer."""

    async def database() -> None:
        async with state.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    failed = []
    for name, check in (("database", database()), ("redis", state.redis.ping())):
        try:
            await asyncio.wait_for(check, 2)
        except Exception:  # any failure means not ready
            failed.append(name)
    if failed:
        return problem(503, "not_ready", "Not ready", f"Unreachable: {', '.join(failed)}")
    return JSONResponse({"status": "ok"})


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus exposition."""
    return metrics_response(request)
