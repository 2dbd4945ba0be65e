"""Events reach only their tenant's clients, in order, with their stream ids; heartbeats."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from pydantic import BaseModel

from contracts import EventName
from events import EventPublisher, OutgoingEvent
from rita_testing import eventually
from rita_testing.sse import SseServer
from sse_gateway.app import Gateway


class Row(BaseModel):
    """A public row: what the API and the consumer publish."""

    name: str
    ratio: float
    at: datetime


StartGateway = Callable[..., Awaitable[SseServer[Gateway]]]


async def test_events_reach_only_their_tenants_clients(
    start_gateway: StartGateway, publisher: EventPublisher
) -> None:
    gw = await start_gateway()
    tenant_a, tenant_b = uuid.uuid4(), uuid.uuid4()
    clients_a = [await gw.connect(tenant_a) for _ in range(3)]
    clients_b = [await gw.connect(tenant_b) for _ in range(3)]
    assert all(c.status == 200 for c in clients_a + clients_b)
    assert clients_a[0].headers["content-type"].startswith("text/event-stream")

    items = [
        OutgoingEvent(tenant_a if n % 2 == 0 else tenant_b, EventName.DATA_SOURCE_UPDATE, {"n": n})
        for n in range(20)
    ]
    ids = await publisher.publish_many(items)
    ids_a, ids_b = ids[0::2], ids[1::2]

    await eventually(lambda: all(len(c.ids()) >= 10 for c in clients_a + clients_b))
    for client in clients_a:
        assert client.ids() == ids_a
        assert [json.loads(e.data)["n"] for e in client.data_events()] == list(range(0, 20, 2))
        assert {e.event for e in client.data_events()} == {"data_source_update"}
    for client in clients_b:
        assert client.ids() == ids_b
    assert clients_a[0].retry == 3000


async def test_idle_connection_gets_heartbeat_comments(start_gateway: StartGateway) -> None:
    gw = await start_gateway(GATEWAY_HEARTBEAT_SECONDS=0.2)
    client = await gw.connect(uuid.uuid4())
    await eventually(lambda: len(client.comments) >= 2)
    assert client.comments[0] == "ping"
    assert client.events == []


async def test_the_sse_data_is_the_published_json_byte_for_byte(
    start_gateway: StartGateway, publisher: EventPublisher
) -> None:
    """The row's JSON goes out as the API or the consumer serialised it (pydantic), not
    re-encoded: non-ASCII text stays UTF-8, key order and number formats are kept."""
    gw = await start_gateway()
    tenant = uuid.uuid4()
    client = await gw.connect(tenant)
    row = Row(name="Jira é 漢字", ratio=1.5, at=datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC))
    text = row.model_dump_json()
    assert "漢字" in text  # UTF-8, where json.dumps would write \\u6f22\\u5b57
    await publisher.publish_many([OutgoingEvent(tenant, EventName.DATA_SOURCE_UPDATE, row)])
    replayed = await gw.connect(tenant, headers={"Last-Event-ID": "0-0"})
    await eventually(lambda: len(client.data_events()) == 1 and len(replayed.data_events()) == 1)
    assert client.data_events()[0].data == text  # live
    assert replayed.data_events()[0].data == text  # replayed from the stream
