"""The publisher over the real Redis: stream id == channel id, order kept, stream capped."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from contracts import EventName, PublishedEvent, tenant_events_key
from events import (
    EventPublisher,
    JsonText,
    OutgoingEvent,
    decode_channel_message,
    decode_stream_entry,
)


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_event_lands_in_stream_and_channel_with_the_same_id(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    tenant = uuid.uuid4()
    key = tenant_events_key(tenant, redis_prefix)
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(key)
    await pubsub.get_message(timeout=1)  # subscribe confirmation
    publisher = EventPublisher(redis_client, prefix=redis_prefix)

    event_id = await publisher.publish(tenant, EventName.DATA_SOURCE_UPDATE, {"id": "c1", "v": 1})

    message = None
    while message is None:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
    live = decode_channel_message(message["data"])
    [(entry_id, fields)] = list(await redis_client.xrange(key) or [])
    stored = decode_stream_entry(entry_id, fields)
    await pubsub.aclose()  # type: ignore[no-untyped-call]
    assert live.id == event_id == stored.id
    assert live == stored
    assert live.event is EventName.DATA_SOURCE_UPDATE
    assert live.data == {"id": "c1", "v": 1}


async def test_publish_many_keeps_order_per_tenant(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    tenants = [uuid.uuid4(), uuid.uuid4()]
    publisher = EventPublisher(redis_client, prefix=redis_prefix)
    items = [
        OutgoingEvent(tenants[i % 2], EventName.INGESTION_RUN_UPDATE, {"seq": i}) for i in range(20)
    ]
    ids = await publisher.publish_many(items)
    assert len(ids) == 20
    for index, tenant in enumerate(tenants):
        entries = await redis_client.xrange(tenant_events_key(tenant, redis_prefix)) or []
        seqs = [decode_stream_entry(i, f).data["seq"] for i, f in entries]
        assert seqs == list(range(index, 20, 2))


async def test_stream_is_capped_to_the_replay_window(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    tenant = uuid.uuid4()
    publisher = EventPublisher(redis_client, prefix=redis_prefix, maxlen=10)
    await publisher.publish_many(
        [OutgoingEvent(tenant, EventName.DATA_SOURCE_UPDATE, {"n": n}) for n in range(500)]
    )
    length = await redis_client.xlen(tenant_events_key(tenant, redis_prefix))
    # MAXLEN ~ trims whole radix-tree nodes: the length stays near the cap, never at 500.
    assert 10 <= length < 500
    await asyncio.sleep(0)


async def test_pre_serialised_json_text_is_published_as_is(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    tenant = uuid.uuid4()
    publisher = EventPublisher(redis_client, prefix=redis_prefix)
    text = JsonText('{"id": "r1", "records_processed": 7}')
    await publisher.publish_many([OutgoingEvent(tenant, EventName.INGESTION_RUN_UPDATE, text)])
    await publisher.publish(tenant, EventName.INGESTION_RUN_UPDATE, text)
    entries = await redis_client.xrange(tenant_events_key(tenant, redis_prefix)) or []
    assert [(f or {})[b"data"] for _i, f in entries] == [text.encode()] * 2
    assert decode_stream_entry(*entries[0]).data == {"id": "r1", "records_processed": 7}


async def test_publish_many_across_chunks_matches_stream_and_channel(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    tenants = [uuid.uuid4() for _ in range(3)]
    key = tenant_events_key(tenants[0], redis_prefix)
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(key)
    await pubsub.get_message(timeout=1)  # subscribe confirmation
    publisher = EventPublisher(redis_client, prefix=redis_prefix)
    items = [
        OutgoingEvent(tenants[i % 3], EventName.DATA_SOURCE_UPDATE, {"seq": i}) for i in range(450)
    ]
    ids = await publisher.publish_many(items)

    mine = [(event_id, i) for i, event_id in enumerate(ids) if i % 3 == 0]
    live: list[PublishedEvent] = []
    while len(live) < len(mine):
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
        assert message is not None
        live.append(decode_channel_message(message["data"]))
    await pubsub.aclose()  # type: ignore[no-untyped-call]
    stored = [decode_stream_entry(i, f) for i, f in await redis_client.xrange(key) or []]
    assert live == stored
    assert [(e.id, e.data["seq"]) for e in stored] == mine
