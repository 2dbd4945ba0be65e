"""Fixtures: an in-process gateway on a real uvicorn server, the shared publisher."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from events import EventPublisher
from sse_gateway.config import Settings
from sse_gateway.testing import SECRET, RunningGateway, run_gateway

StartGateway = Callable[..., Awaitable[RunningGateway]]


@pytest.fixture
async def start_gateway(redis_url: str, redis_prefix: str) -> AsyncIterator[StartGateway]:
    """`await start_gateway(**settings)` runs a gateway on a free loopback port."""
    running: list[RunningGateway] = []

    async def start(**overrides: Any) -> RunningGateway:
        values: dict[str, Any] = {
            "REDIS_URL": redis_url,
            "EVENTS_KEY_PREFIX": redis_prefix,
            "AUTH_JWT_SECRET": SECRET,
            "LOG_LEVEL": "WARNING",
            "GATEWAY_SHUTDOWN_GRACE_SECONDS": 2,
            # The GC policy is process-wide: off in the test process, unless a test asks for it.
            "GATEWAY_GC_FREEZE_SECONDS": 0,
        }
        values.update(overrides)
        gw = await run_gateway(Settings(**values))
        running.append(gw)
        return gw

    yield start
    for gw in running:
        await gw.stop()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def publisher(redis_client: aioredis.Redis, redis_prefix: str) -> EventPublisher:
    """The same publisher the API and the consumer use, on this test's prefix."""
    return EventPublisher(redis_client, prefix=redis_prefix)
