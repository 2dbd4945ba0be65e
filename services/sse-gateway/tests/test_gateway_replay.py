"""Resume with Last-Event-ID: no gap and no duplicate; resync when the id left the window."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from contracts import EventName, tenant_events_key
from rita_testing import eventually
from rita_testing.sse import SseServer
from sse_gateway.app import Gateway
from sse_gateway.replay import catch_up as real_catch_up

StartGateway = Callable[..., Awaitable[SseServer[Gateway]]]
Publish = Callable[[uuid.UUID, EventName, dict[str, Any]], Awaitable[str]]
UPDATE = EventName.DATA_SOURCE_UPDATE


async def test_reconnect_replays_the_missed_events_then_live_ones(
    start_gateway: StartGateway, publish: Publish
) -> None:
    gw = await start_gateway()
    tenant = uuid.uuid4()
    first = await gw.connect(tenant)
    seen = [await publish(tenant, UPDATE, {"n": n}) for n in range(3)]
    await eventually(lambda: first.ids() == seen)
    await first.close()
    missed = [await publish(tenant, UPDATE, {"n": n}) for n in range(3, 8)]

    again = await gw.connect(tenant, headers={"Last-Event-ID": seen[-1]})
    await eventually(lambda: again.ids() == missed)
    live = await publish(tenant, UPDATE, {"n": 8})
    await eventually(lambda: again.ids() == [*missed, live])
    assert again.named("resync") == []

    # `last_event_id` in the query works for the first connect of an EventSource.
    by_query = await gw.connect(tenant, query=f"last_event_id={missed[1]}")
    await eventually(lambda: by_query.ids() == [*missed[2:], live])


async def test_resume_under_continuous_publishing_has_no_gap_and_no_duplicate(
    start_gateway: StartGateway, publish: Publish
) -> None:
    gw = await start_gateway()
    tenant = uuid.uuid4()
    published: list[str] = []
    stop = asyncio.Event()

    async def publish_steadily() -> None:
        n = 0
        while not stop.is_set():
            published.append(await publish(tenant, UPDATE, {"n": n}))
            n += 1
            await asyncio.sleep(0.002)

    producer = asyncio.create_task(publish_steadily())
    received: list[str] = []
    last: str | None = None
    try:
        await eventually(lambda: len(published) >= 5)
        for _ in range(6):  # each hop: connect (resuming), read a little, drop the connection
            headers = {"Last-Event-ID": last} if last else {}
            client = await gw.connect(tenant, headers=headers)
            await eventually(lambda c=client: len(c.ids()) >= 5)  # type: ignore[misc]
            await client.close()
            received.extend(client.ids())
            last = received[-1]
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await producer
    first_index = published.index(received[0])
    assert received == published[first_index : first_index + len(received)]


async def test_an_id_older_than_the_window_gets_resync_then_live_events(
    start_gateway: StartGateway,
    publish: Publish,
    redis_client: aioredis.Redis,
    redis_prefix: str,
) -> None:
    gw = await start_gateway()
    tenant = uuid.uuid4()
    ids = [await publish(tenant, UPDATE, {"n": n}) for n in range(10)]
    await redis_client.xtrim(tenant_events_key(tenant, redis_prefix), maxlen=3, approximate=False)

    client = await gw.connect(tenant, headers={"Last-Event-ID": ids[2]})
    await eventually(lambda: len(client.named("resync")) == 1)
    assert client.named("resync")[0].id == ids[-1]  # resume point after the refetch
    assert client.ids() == []
    live = await publish(tenant, UPDATE, {"n": 10})
    await eventually(lambda: client.ids() == [live])

    # From the first entry still kept nothing was lost: a plain replay.
    edge = await gw.connect(tenant, headers={"Last-Event-ID": ids[7]})
    await eventually(lambda: edge.ids() == [*ids[8:], live])
    assert edge.named("resync") == []


async def test_a_stream_that_vanished_gets_resync(
    start_gateway: StartGateway,
    publish: Publish,
    redis_client: aioredis.Redis,
    redis_prefix: str,
) -> None:
    gw = await start_gateway()
    tenant = uuid.uuid4()
    old = await publish(tenant, UPDATE, {"n": 0})
    await redis_client.delete(tenant_events_key(tenant, redis_prefix))
    client = await gw.connect(tenant, headers={"Last-Event-ID": old})
    await eventually(lambda: len(client.named("resync")) == 1)
    fresh = await publish(tenant, UPDATE, {"n": 1})
    await eventually(lambda: client.ids() == [fresh])


async def test_first_connect_keeps_an_event_published_while_it_subscribes(
    start_gateway: StartGateway, publish: Publish, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards the hand-off of a first connect (no Last-Event-ID): an event published after the
    subscription but before the stream is read used to be dropped as already sent."""
    gw = await start_gateway()
    tenant = uuid.uuid4()
    before = await publish(tenant, UPDATE, {"n": 0})
    racing: list[str] = []

    async def catch_up_after_a_publish(*args: Any, **kwargs: Any) -> Any:
        racing.append(await publish(tenant, UPDATE, {"n": 1}))
        return await real_catch_up(*args, **kwargs)

    monkeypatch.setattr("sse_gateway.app.catch_up", catch_up_after_a_publish)
    client = await gw.connect(tenant)
    await eventually(lambda: client.ids() == racing)
    monkeypatch.undo()
    live = await publish(tenant, UPDATE, {"n": 2})
    await eventually(lambda: client.ids() == [*racing, live])
    assert before not in client.ids()
