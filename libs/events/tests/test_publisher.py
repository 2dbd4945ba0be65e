"""The publisher over the real Redis: stream id == channel id, JSON built in Python, order kept,
stream capped."""

import uuid
from datetime import UTC, datetime

import redis.asyncio as aioredis
from pydantic import BaseModel

from contracts import EventName, tenant_events_key
from events import (
    EventPublisher,
    OutgoingEvent,
    WireEvent,
    channel_message,
    decode_stream_entry,
    read_channel_message,
    read_stream_entry,
)


class Row(BaseModel):
    id: str
    name: str
    at: datetime


async def _next_message(pubsub: aioredis.client.PubSub) -> bytes:
    message = None
    while message is None:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
    data: bytes = message["data"]
    return data


async def test_event_lands_in_stream_and_channel_with_the_same_id_and_bytes(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    tenant = uuid.uuid4()
    key = tenant_events_key(tenant, redis_prefix)
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(key)
    await pubsub.get_message(timeout=1)  # subscribe confirmation
    publisher = EventPublisher(redis_client, prefix=redis_prefix)
    row = Row(id="c1", name="Jira ünïcode é", at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    [event_id] = await publisher.publish_many(
        [OutgoingEvent(tenant, EventName.DATA_SOURCE_UPDATE, row, traceparent=tp)]
    )

    raw = await _next_message(pubsub)
    await pubsub.aclose()  # type: ignore[no-untyped-call]
    [(entry_id, fields)] = list(await redis_client.xrange(key) or [])
    stored = read_stream_entry(entry_id, fields)
    live = read_channel_message(raw)
    # The row's JSON is pydantic's, byte for byte, on both paths (the REST body's serialiser).
    assert (
        live
        == stored
        == WireEvent(event_id, EventName.DATA_SOURCE_UPDATE, stored.ts, tp, row.model_dump_json())
    )
    assert raw.decode() == channel_message(
        event_id, "data_source_update", stored.ts, tp, row.model_dump_json()
    )
    assert stored.decoded().data == {
        "id": "c1",
        "name": "Jira ünïcode é",
        "at": "2026-01-02T03:04:05Z",
    }


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
        assert [read_stream_entry(i, f).id for i, f in entries] == ids[index::2]
        assert [decode_stream_entry(i, f).data["seq"] for i, f in entries] == list(
            range(index, 20, 2)
        )
        assert all(read_stream_entry(i, f).traceparent is None for i, f in entries)


async def test_stream_is_capped_to_the_replay_window(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    tenant = uuid.uuid4()
    key = tenant_events_key(tenant, redis_prefix)
    publisher = EventPublisher(redis_client, prefix=redis_prefix, maxlen=10)
    await publisher.publish_many(
        [OutgoingEvent(tenant, EventName.DATA_SOURCE_UPDATE, {"n": n}) for n in range(500)]
    )
    # MAXLEN ~ trims whole radix-tree nodes: at most one node more than the cap stays, and what
    # stays is the newest events, without a gap.
    config = await redis_client.config_get("stream-node-max-entries")
    node_size = int(str(config["stream-node-max-entries"]))
    entries = await redis_client.xrange(key) or []
    assert 10 <= len(entries) <= 10 + node_size
    kept = [decode_stream_entry(i, f).data["n"] for i, f in entries]
    assert kept == list(range(500 - len(entries), 500))


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
    live = [read_channel_message(await _next_message(pubsub)) for _ in mine]
    await pubsub.aclose()  # type: ignore[no-untyped-call]
    stored = [read_stream_entry(i, f) for i, f in await redis_client.xrange(key) or []]
    assert live == stored
    assert [(e.id, e.decoded().data["seq"]) for e in stored] == mine


def test_a_malformed_channel_message_is_refused() -> None:
    for payload in (b"", b"1-0 data_source_update 5", b"1-0 nope 5 - {}", b"1-0 resync x - {}"):
        try:
            read_channel_message(payload)
        except ValueError:
            continue
        raise AssertionError(f"{payload!r} was accepted")
