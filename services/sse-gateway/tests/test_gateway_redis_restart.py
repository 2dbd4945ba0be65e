"""A Redis of the test's own, killed and restarted mid-stream: clients keep their streams and
recover every event published after the restart; a broken subscription is replayed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY
from redis.exceptions import ConnectionError as RedisConnectionError

from contracts import EventName
from events import EventPublisher, OutgoingEvent
from rita_testing import eventually
from rita_testing.redis_servers import RedisServer
from rita_testing.sse import SseClient, SseServer
from sse_gateway.app import Gateway

StartGateway = Callable[..., Awaitable[SseServer[Gateway]]]
UPDATE = EventName.DATA_SOURCE_UPDATE


@pytest.fixture
async def own_redis() -> AsyncIterator[RedisServer]:
    """A redis-server without persistence: a restart loses every stream."""
    async with RedisServer() as server:
        yield server


async def _publish(publisher: EventPublisher, tenant: uuid.UUID, n: int) -> str:
    """Publish, retrying while the restarted server is not accepting yet."""
    for _ in range(250):
        with contextlib.suppress(RedisConnectionError, OSError):
            [event_id] = await publisher.publish_many([OutgoingEvent(tenant, UPDATE, {"n": n})])
            return event_id
        await asyncio.sleep(0.02)
    raise AssertionError("could not publish")


def _after_last_resync(client: SseClient) -> list[str]:
    resyncs = [i for i, e in enumerate(client.events) if e.event == "resync"]
    tail = client.events[resyncs[-1] + 1 :] if resyncs else client.events
    return [e.id for e in tail if e.event == "data_source_update" and e.id]


async def test_killed_and_restarted_redis_loses_nothing_silently(
    start_gateway: StartGateway, own_redis: RedisServer
) -> None:
    gw = await start_gateway(REDIS_URL=own_redis.url, EVENTS_KEY_PREFIX="rita:events:")
    redis = aioredis.from_url(own_redis.url)
    publisher = EventPublisher(redis)
    tenants = [uuid.uuid4(), uuid.uuid4()]
    clients = {t: [await gw.connect(t), await gw.connect(t)] for t in tenants}
    before = {t: [await _publish(publisher, t, n) for n in range(3)] for t in tenants}
    for t in tenants:
        await eventually(lambda t=t: all(c.ids() == before[t] for c in clients[t]))  # type: ignore[misc]

    await own_redis.stop()
    await eventually(lambda: not gw.app.hub.connected)
    await own_redis.start()
    # Published right after the restart, before the gateway has necessarily resubscribed...
    after = {t: [await _publish(publisher, t, n) for n in range(3, 6)] for t in tenants}
    await eventually(lambda: gw.app.hub.connected, within=20)
    # ...and once it has.
    for t in tenants:
        after[t] += [await _publish(publisher, t, n) for n in range(6, 9)]

    for t in tenants:
        for client in clients[t]:
            await eventually(lambda c=client, t=t: _after_last_resync(c) == after[t])  # type: ignore[misc]
            assert len(client.named("resync")) == 1  # the gap before the restart is flagged
            assert not client.finished  # the stream itself survived the outage
    await redis.aclose()


async def test_lost_subscription_is_replayed_from_the_stream(
    start_gateway: StartGateway, own_redis: RedisServer
) -> None:
    gw = await start_gateway(REDIS_URL=own_redis.url, EVENTS_KEY_PREFIX="rita:events:")
    redis = aioredis.from_url(own_redis.url)
    publisher = EventPublisher(redis)
    tenant = uuid.uuid4()
    client = await gw.connect(tenant)
    ids = [await _publish(publisher, tenant, n) for n in range(3)]
    await eventually(lambda: client.ids() == ids)
    reconnects = REGISTRY.get_sample_value("sse_gateway_redis_reconnects_total") or 0.0

    await redis.client_kill_filter(_type="pubsub")  # the gateway's one subscription drops
    ids += [await _publish(publisher, tenant, n) for n in range(3, 8)]
    await eventually(lambda: gw.app.hub.connected)
    ids += [await _publish(publisher, tenant, 8)]

    await eventually(lambda: client.ids() == ids)
    assert client.named("resync") == []
    assert (REGISTRY.get_sample_value("sse_gateway_redis_reconnects_total") or 0) > reconnects
    await redis.aclose()


async def test_new_connections_get_503_while_redis_is_down(
    start_gateway: StartGateway, own_redis: RedisServer
) -> None:
    gw = await start_gateway(REDIS_URL=own_redis.url, EVENTS_KEY_PREFIX="rita:events:")
    tenant = uuid.uuid4()
    held = await gw.connect(tenant)
    await own_redis.stop()
    await eventually(lambda: not gw.app.hub.connected)

    refused = await gw.connect(tenant)
    await eventually(lambda: refused.finished)
    assert refused.status == 503
    assert refused.headers["retry-after"] == "3"
    assert json.loads(bytes(refused.body))["code"] == "redis_unavailable"
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gw.port}") as http:
        ready = await http.get("/readyz")
        assert (ready.status_code, ready.json()["redis"]) == (503, False)
        assert not held.finished  # an open stream is kept through the outage

        await own_redis.start()
        await eventually(lambda: gw.app.hub.connected, within=20)
        assert (await http.get("/readyz")).status_code == 200
    assert (await gw.connect(tenant)).status == 200
