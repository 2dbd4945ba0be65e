"""A committed change is never lost silently: when Redis is down, `publish_committed` remembers
the tenants and sends each a `resync` once Redis answers again (a Redis of the test's own, which
keeps its data, stopped and restarted; never the shared one)."""

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from contracts import EventName
from events import RESYNC_AFTER_OUTAGE, EventPublisher, OutgoingEvent, read_stream_entry
from events.pending import PendingResyncs
from rita_testing import eventually
from rita_testing.redis_servers import RedisServer

UPDATE = EventName.DATA_SOURCE_UPDATE
PREFIX = "rita:events:"


@pytest.fixture
async def server() -> AsyncIterator[RedisServer]:
    async with RedisServer(persistent=True) as own:
        yield own


async def _events(
    client: aioredis.Redis, publisher: EventPublisher, tenant: uuid.UUID
) -> list[tuple[str, str]]:
    entries = await client.xrange(publisher.key(tenant)) or []
    return [(e.event.value, e.data) for e in (read_stream_entry(i, f) for i, f in entries)]


async def test_tenants_whose_events_failed_get_a_resync_once_redis_is_back(
    server: RedisServer,
) -> None:
    client = aioredis.from_url(server.url, socket_connect_timeout=1, socket_timeout=1)
    publisher = EventPublisher(client, prefix=PREFIX, recovery_max_wait=0.2)
    a, b, quiet = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert await publisher.publish_committed(
        [OutgoingEvent(t, UPDATE, {"n": 0}) for t in (a, b, quiet)]
    )

    await server.stop()
    published = await publisher.publish_committed(
        [OutgoingEvent(a, UPDATE, {"n": 1}), OutgoingEvent(b, UPDATE, {"n": 2})]
    )
    assert published is False
    assert publisher.pending_tenants == [str(a), str(b)]

    await server.start()
    await eventually(lambda: not publisher.pending_tenants, what="resyncs sent")
    resync = ("resync", '{"reason":"events were not published while Redis was unavailable"}')
    assert await _events(client, publisher, a) == [("data_source_update", '{"n":0}'), resync]
    assert await _events(client, publisher, b) == [("data_source_update", '{"n":0}'), resync]
    assert await _events(client, publisher, quiet) == [("data_source_update", '{"n":0}')]
    assert RESYNC_AFTER_OUTAGE == {
        "reason": "events were not published while Redis was unavailable"
    }
    await publisher.aclose()
    await client.aclose()


async def test_past_the_bound_every_tenant_with_a_stream_gets_a_resync(server: RedisServer) -> None:
    client = aioredis.from_url(server.url, socket_connect_timeout=1, socket_timeout=1)
    publisher = EventPublisher(client, prefix=PREFIX, max_pending_tenants=1, recovery_max_wait=0.2)
    tenants = [uuid.uuid4() for _ in range(3)]
    await publisher.publish_many([OutgoingEvent(t, UPDATE, {"n": 0}) for t in tenants])

    await server.stop()
    assert not await publisher.publish_committed(
        [OutgoingEvent(t, UPDATE, {"n": 1}) for t in tenants]
    )
    assert publisher.pending_tenants == [str(tenants[0])]  # the rest only as "overflowed"

    await server.start()
    await eventually(lambda: not publisher.pending_tenants, what="resyncs sent")
    await eventually(lambda: publisher.pending_overflows == 0, what="overflow resolved")
    for tenant in tenants:
        events = await _events(client, publisher, tenant)
        assert [name for name, _data in events] == ["data_source_update", "resync"]
    await publisher.aclose()
    await client.aclose()


def test_pending_resyncs_are_bounded_and_cleared_only_for_what_was_sent() -> None:
    pending = PendingResyncs(limit=2)
    pending.add(["a", "b", "a", "c"])
    assert pending.snapshot() == (["a", "b"], 1)
    tenants, overflows = pending.snapshot()
    pending.add(["d"])  # another overflow while the resync was in flight
    pending.resolved(tenants, overflows)
    assert not len(pending)
    assert pending.overflows == 2  # not cleared: "d" overflowed after the snapshot
    assert bool(pending)
    pending.resolved([], 2)
    assert not pending
