"""A change committed while Redis is down is not lost silently: once Redis answers again, the
tenant's stream gets `resync` (DESIGN.md §9). A Redis of the test's own that keeps its data."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from contracts import tenant_events_key
from events import read_stream_entry
from rita_testing import eventually
from rita_testing.connections_api import Api
from rita_testing.redis_servers import RedisServer

ApiFactory = Callable[..., Awaitable[Api]]


@pytest.fixture
async def own_redis() -> AsyncIterator[RedisServer]:
    async with RedisServer(persistent=True) as server:
        yield server


async def test_patch_committed_while_redis_is_down_ends_in_a_resync(
    api_factory: ApiFactory, own_redis: RedisServer, tenant: uuid.UUID
) -> None:
    api = await api_factory(redis_url=own_redis.url)
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    key = tenant_events_key(tenant, api.settings.events_key_prefix)

    async def events() -> list[str]:
        reader = aioredis.from_url(own_redis.url)  # a new connection after the restart
        try:
            entries = await reader.xrange(key) or []
        finally:
            await reader.aclose()
        return [read_stream_entry(i, f).event.value for i, f in entries]

    before = await events()
    await own_redis.stop()
    response = await api.client.patch(
        f"/api/data-sources/{connection_id}",
        json={"name": "Renamed during the outage"},
        headers=api.headers(tenant),
    )
    assert response.status_code == 200  # the change is committed whatever Redis does
    assert api.state.publisher.pending_tenants == [str(tenant)]

    await own_redis.start()
    await eventually(lambda: not api.state.publisher.pending_tenants, what="resync sent")
    assert await events() == [*before, "resync"]
