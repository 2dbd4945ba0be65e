"""Fixtures: a gateway on a real uvicorn server in the test's loop, tokens, the shared publisher.

The gateway runs in the test's own event loop on a free loopback port (`start_gateway`), so a
test can look at its hub directly (`gw.app.hub`); `gw.connect(tenant)` opens a raw SSE client
(`rita_testing.sse`) with an API token for that tenant.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from contracts import EventName, Principal, Role
from events import EventPublisher, OutgoingEvent
from rita_auth import EventsTokens, issue_token
from rita_testing import eventually
from rita_testing.sse import SseServer
from sse_gateway.app import Gateway
from sse_gateway.config import Settings
from sse_gateway.main import build_server

SECRET = "test-secret-for-the-sse-gateway-0123456789"
Gw = SseServer[Gateway]
StartGateway = Callable[..., Awaitable[Gw]]
Publish = Callable[[uuid.UUID, EventName, dict[str, Any]], Awaitable[str]]


def _principal(tenant: uuid.UUID) -> Principal:
    return Principal(sub=f"user-{tenant.hex[:6]}", tenant_id=tenant, role=Role.ADMIN)


def mint_api_token(tenant: uuid.UUID, *, ttl: int = 300, secret: str = SECRET) -> str:
    return issue_token(secret, _principal(tenant), ttl_seconds=ttl)


def mint_events_token(tenant: uuid.UUID, *, ttl: int = 120, secret: str = SECRET) -> str:
    return EventsTokens(secret).issue(_principal(tenant), ttl_seconds=ttl)


@pytest.fixture
def jwt_secret() -> str:
    """The AUTH_JWT_SECRET every test gateway uses."""
    return SECRET


@pytest.fixture
def api_token() -> Callable[..., str]:
    """`api_token(tenant, ttl=300)`: an API token for the tenant."""
    return mint_api_token


@pytest.fixture
def events_token() -> Callable[..., str]:
    """`events_token(tenant, ttl=120, secret=SECRET)`: an events token for `?access_token=`."""
    return mint_events_token


async def _serve(settings: Settings) -> Gw:
    server = build_server(settings, host="127.0.0.1", port=0)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await eventually(lambda: server.started or task.done(), what="gateway started")
    gateway = server.gateway
    await eventually(lambda: gateway.hub.connected, what="gateway subscribed")

    async def stop() -> None:
        server.should_exit = True
        await asyncio.wait_for(task, 20)

    return SseServer(gateway, port, mint_api_token, stop)


@pytest.fixture
async def start_gateway(redis_url: str, redis_prefix: str) -> AsyncIterator[StartGateway]:
    """`await start_gateway(**settings)` runs a gateway on a free loopback port."""
    running: list[Gw] = []

    async def start(**overrides: Any) -> Gw:
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
        # Overrides use the variables' names; the fields are those names in lower case.
        gw = await _serve(Settings(**{name.lower(): value for name, value in values.items()}))
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


@pytest.fixture
def publish(publisher: EventPublisher) -> Publish:
    """`await publish(tenant, event, data)`: publish one event, return its id."""

    async def one(tenant: uuid.UUID, event: EventName, data: dict[str, Any]) -> str:
        [event_id] = await publisher.publish_many([OutgoingEvent(tenant, event, data)])
        return event_id

    return one
