"""A Redis of the test's own, killed and restarted mid-stream: clients keep their streams and
recover every event published after the restart; a broken subscription is replayed."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY
from redis.exceptions import ConnectionError as RedisConnectionError

from contracts import EventName
from events import EventPublisher
from sse_gateway.testing import RunningGateway, SseClient, eventually

StartGateway = Callable[..., Awaitable[RunningGateway]]
UPDATE = EventName.DATA_SOURCE_UPDATE


class OwnRedis:
    """A throwaway redis-server without persistence on a free loopback port."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        args = ["/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        self.proc = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        client = aioredis.from_url(self.url)
        try:
            for _ in range(250):
                with contextlib.suppress(RedisConnectionError, OSError):
                    if await client.ping():
                        return
                await asyncio.sleep(0.02)
            raise AssertionError("redis-server did not start")
        finally:
            await client.aclose()

    async def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            await self.proc.wait()
            self.proc = None


@pytest.fixture
async def own_redis() -> AsyncIterator[OwnRedis]:
    server = OwnRedis()
    await server.start()
    yield server
    await server.kill()


async def _publish(publisher: EventPublisher, tenant: uuid.UUID, n: int) -> str:
    """Publish, retrying while the restarted server is not accepting yet."""
    for _ in range(250):
        with contextlib.suppress(RedisConnectionError, OSError):
            return await publisher.publish(tenant, UPDATE, {"n": n})
        await asyncio.sleep(0.02)
    raise AssertionError("could not publish")


def _after_last_resync(client: SseClient) -> list[str]:
    resyncs = [i for i, e in enumerate(client.events) if e.event == "resync"]
    tail = client.events[resyncs[-1] + 1 :] if resyncs else client.events
    return [e.id for e in tail if e.event == "data_source_update" and e.id]


async def test_killed_and_restarted_redis_loses_nothing_silently(
    start_gateway: StartGateway, own_redis: OwnRedis
) -> None:
    gw = await start_gateway(REDIS_URL=own_redis.url, EVENTS_KEY_PREFIX="rita:events:")
    redis = aioredis.from_url(own_redis.url)
    publisher = EventPublisher(redis)
    tenants = [uuid.uuid4(), uuid.uuid4()]
    clients = {t: [await gw.connect(t), await gw.connect(t)] for t in tenants}
    before = {t: [await _publish(publisher, t, n) for n in range(3)] for t in tenants}
    for t in tenants:
        await eventually(lambda t=t: all(c.ids() == before[t] for c in clients[t]))  # type: ignore[misc]

    await own_redis.kill()
    await eventually(lambda: not gw.gateway.hub.connected)
    await own_redis.start()
    # Published right after the restart, before the gateway has necessarily resubscribed...
    after = {t: [await _publish(publisher, t, n) for n in range(3, 6)] for t in tenants}
    await eventually(lambda: gw.gateway.hub.connected, within=20)
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
    start_gateway: StartGateway, own_redis: OwnRedis
) -> None:
    gw = await start_gateway(REDIS_URL=own_redis.url, EVENTS_KEY_PREFIX="rita:events:")
    redis = aioredis.from_url(own_redis.url)
    publisher = EventPublisher(redis)
    tenant = uuid.uuid4()
    client = await gw.connect(tenant)
    ids = [await publisher.publish(tenant, UPDATE, {"n": n}) for n in range(3)]
    await eventually(lambda: client.ids() == ids)
    reconnects = REGISTRY.get_sample_value("sse_gateway_redis_reconnects_total") or 0.0

    await redis.client_kill_filter(_type="pubsub")  # the gateway's one subscription drops
    ids += [await publisher.publish(tenant, UPDATE, {"n": n}) for n in range(3, 8)]
    await eventually(lambda: gw.gateway.hub.connected)
    ids += [await publisher.publish(tenant, UPDATE, {"n": 8})]

    await eventually(lambda: client.ids() == ids)
    assert client.named("resync") == []
    assert (REGISTRY.get_sample_value("sse_gateway_redis_reconnects_total") or 0) > reconnects
    await redis.aclose()
