"""`/healthz`, `/readyz` and `/metrics` as FastStream ASGI routes (port 8002).

Readiness uses FastStream's public surface only: the subscriber's `running` flag (set once its
consumer is registered on the queue, cleared when it stops) and `broker.ping` (the connection
is up; aio-pika's robust connection and channels restore the consumer after a reconnect).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from faststream.asgi import AsgiResponse, get
from faststream.asgi.handlers import GetHandler
from faststream.asgi.types import Scope
from faststream.rabbit import RabbitBroker
from faststream.rabbit.subscriber import RabbitSubscriber
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine


async def database_ok(engine: AsyncEngine | None, limit: float = 2.0) -> bool:
    """Whether `SELECT 1` answers within `limit` seconds."""
    if engine is None:
        return False
    try:
        async with asyncio.timeout(limit), engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
    except Exception:
        return False
    return True


def _json(status: int, body: dict[str, Any]) -> AsgiResponse:
    return AsgiResponse(
        json.dumps(body).encode(), status_code=status, headers={"content-type": "application/json"}
    )


def routes(
    broker: RabbitBroker,
    subscriber: RabbitSubscriber,
    engine: Callable[[], AsyncEngine | None],
) -> list[tuple[str, GetHandler]]:
    """The three HTTP routes; `engine()` gives the lifespan's engine (None before start)."""

    @get(include_in_schema=False)
    async def healthz(scope: Scope) -> AsgiResponse:
        return _json(200, {"status": "ok"})

    @get(include_in_schema=False)
    async def readyz(scope: Scope) -> AsgiResponse:
        checks = {
            "consumer": bool(subscriber.running),
            "database": await database_ok(engine()),
            "broker": await broker.ping(timeout=2.0),
        }
        return _json(
            200 if all(checks.values()) else 503, {"ready": all(checks.values()), **checks}
        )

    @get(include_in_schema=False)
    async def metrics(scope: Scope) -> AsgiResponse:
        return AsgiResponse(
            generate_latest(), status_code=200, headers={"content-type": CONTENT_TYPE_LATEST}
        )

    return [("/healthz", healthz), ("/readyz", readyz), ("/metrics", metrics)]
