"""Lifetime, connection cap, draining, slow-client eviction, health and metrics."""

from __future__ import annotations

import gc
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import redis.asyncio as aioredis
import structlog.testing
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from contracts import EventName, tenant_events_key
from events import EventPublisher, OutgoingEvent
from rita_testing import eventually
from rita_testing.sse import SseServer
from sse_gateway.app import Gateway

StartGateway = Callable[..., Awaitable[SseServer[Gateway]]]
Publish = Callable[[uuid.UUID, EventName, dict[str, Any]], Awaitable[str]]
UPDATE = EventName.DATA_SOURCE_UPDATE


def _sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_lifetime_ends_with_reconnect(start_gateway: StartGateway) -> None:
    gw = await start_gateway(GATEWAY_MAX_LIFETIME_SECONDS=0.5, GATEWAY_LIFETIME_JITTER=0.2)
    client = await gw.connect(uuid.uuid4())
    await eventually(lambda: client.finished)
    [reconnect] = client.named("reconnect")
    assert json.loads(reconnect.data) == {"reason": "lifetime"}
    await eventually(lambda: gw.app.hub.count == 0)


async def test_connection_cap_answers_503_with_retry_after(start_gateway: StartGateway) -> None:
    gw = await start_gateway(GATEWAY_MAX_CONNECTIONS=2)
    tenant = uuid.uuid4()
    held = [await gw.connect(tenant) for _ in range(2)]
    assert [c.status for c in held] == [200, 200]
    refused = await gw.connect(tenant)
    await eventually(lambda: refused.finished)
    assert refused.status == 503
    assert int(refused.headers["retry-after"]) >= 1
    assert json.loads(bytes(refused.body))["code"] == "too_many_connections"
    await held[0].close()
    await eventually(lambda: gw.app.hub.count == 1)
    assert (await gw.connect(tenant)).status == 200


async def test_slow_client_is_evicted_without_growing_memory(
    start_gateway: StartGateway, publisher: EventPublisher
) -> None:
    gw = await start_gateway(GATEWAY_QUEUE_SIZE=4, GATEWAY_SEND_TIMEOUT_SECONDS=2)
    tenant = uuid.uuid4()
    before = _sample("sse_gateway_slow_client_evictions_total")
    slow = await gw.connect(tenant, rcvbuf=4096, wait=False)  # connected, never reading
    await eventually(lambda: gw.app.hub.count == 1)
    [sub] = gw.app.hub._tenants[str(tenant)]
    blob = "x" * 16_384
    for _ in range(200):
        batch = [OutgoingEvent(tenant, EventName.DATA_SOURCE_UPDATE, {"b": blob})] * 20
        await publisher.publish_many(batch)
        if _sample("sse_gateway_slow_client_evictions_total") > before:
            break
    assert _sample("sse_gateway_slow_client_evictions_total") == before + 1
    assert sub.closing  # the queue was dropped and no more frames are accepted
    await publisher.publish_many(batch)
    assert len(sub._items) <= 1
    slow.start()  # the client reads again: what was in flight, then the stream ends
    await eventually(lambda: slow.finished or slow.eof, within=15)
    await eventually(lambda: gw.app.hub.count == 0)


async def _metrics(http: httpx.AsyncClient) -> dict[tuple[str, tuple[str, ...]], float]:
    """The samples `/metrics` serves, by name and label values."""
    text = (await http.get("/metrics")).text
    return {
        (sample.name, tuple(sample.labels.values())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_connections_deliveries_replays_resyncs_and_refusals(
    start_gateway: StartGateway,
    publish: Publish,
    redis_client: aioredis.Redis,
    redis_prefix: str,
) -> None:
    gw = await start_gateway()
    tenant = uuid.uuid4()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gw.port}") as http:
        assert (await http.get("/healthz")).status_code == 200
        ready = await http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ready",
            "redis": True,
            "draining": False,
            "connections": 0,
        }
        before = await _metrics(http)

        live = await gw.connect(tenant)
        ids = [await publish(tenant, UPDATE, {"n": n}) for n in range(3)]
        await eventually(lambda: live.ids() == ids)
        replayed = await gw.connect(tenant, headers={"Last-Event-ID": ids[0]})
        await eventually(lambda: replayed.ids() == ids[1:])
        await redis_client.delete(tenant_events_key(tenant, redis_prefix))
        resynced = await gw.connect(tenant, headers={"Last-Event-ID": ids[-1]})
        await eventually(lambda: len(resynced.named("resync")) == 1)
        refused = await gw.connect(headers={"Authorization": "Bearer nonsense"})
        await eventually(lambda: refused.finished)
        after = await _metrics(http)
        assert (await http.get("/readyz")).json()["connections"] == 3

    def grew(name: str, *labels: str) -> float:
        return after.get((name, labels), 0.0) - before.get((name, labels), 0.0)

    assert grew("sse_gateway_open_connections") == 3
    # 3 live + 2 replayed; the resync is not a data event.
    assert grew("sse_gateway_events_delivered_total") == 5
    # Every connect reads the stream from its resume point (a first one from the tail it saw).
    assert grew("sse_gateway_replays_total") == 3
    assert grew("sse_gateway_replayed_events_total") == 2
    assert grew("sse_gateway_resyncs_total") == 1
    assert grew("sse_gateway_rejected_connections_total", "unauthorized") == 1
    assert grew("sse_gateway_rejected_connections_total", "too_many_connections") == 0
    assert after[("sse_gateway_redis_connected", ())] == 1


async def test_draining_gateway_answers_503_with_retry_after(start_gateway: StartGateway) -> None:
    gw = await start_gateway()
    tenant = uuid.uuid4()
    held = await gw.connect(tenant)
    gw.app.hub.drain()  # what SIGTERM does first (main.GatewayServer.handle_exit)
    await eventually(lambda: held.finished)
    assert json.loads(held.named("reconnect")[0].data) == {"reason": "shutdown"}
    refused = await gw.connect(tenant)
    await eventually(lambda: refused.finished)
    assert refused.status == 503
    assert refused.headers["retry-after"] == "3"
    assert json.loads(bytes(refused.body))["code"] == "shutting_down"
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gw.port}") as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["draining"] is True


async def test_a_write_stuck_on_a_client_that_never_reads_is_cut(
    start_gateway: StartGateway, publisher: EventPublisher
) -> None:
    """The queue is large enough never to fill: only the ticker's send timeout ends this one."""
    gw = await start_gateway(GATEWAY_QUEUE_SIZE=100_000, GATEWAY_SEND_TIMEOUT_SECONDS=1)
    tenant = uuid.uuid4()
    before = _sample("sse_gateway_slow_client_evictions_total")
    await gw.connect(tenant, rcvbuf=4096, wait=False)  # connected, never reading
    await eventually(lambda: gw.app.hub.count == 1)
    [sub] = gw.app.hub._tenants[str(tenant)]
    batch = [OutgoingEvent(tenant, EventName.DATA_SOURCE_UPDATE, {"b": "x" * 16_384})] * 20
    while not sub.sending and gw.app.hub.count:  # until a write blocks
        await publisher.publish_many(batch)
    await eventually(lambda: gw.app.hub.count == 0, within=15)
    assert sub.timed_out
    assert _sample("sse_gateway_slow_client_evictions_total") == before


async def test_events_answers_head_without_a_stream_and_refuses_other_methods(
    start_gateway: StartGateway, api_token: Callable[..., str]
) -> None:
    gw = await start_gateway()
    auth = {"Authorization": f"Bearer {api_token(uuid.uuid4())}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gw.port}") as http:
        head = await http.head("/events", headers=auth)
        assert head.status_code == 200
        assert head.headers["content-type"].startswith("text/event-stream")
        assert (await http.post("/events", headers=auth)).status_code == 405
    assert gw.app.hub.count == 0


async def test_gc_policy_freezes_survivors_and_runs_full_passes(
    start_gateway: StartGateway,
) -> None:
    gw = None
    try:
        with structlog.testing.capture_logs() as logs:
            gw = await start_gateway(GATEWAY_GC_FREEZE_SECONDS=0.05, GATEWAY_GC_FULL_SECONDS=0.2)
            await eventually(lambda: any(e["event"] == "gc_full_pass" for e in logs))
        await eventually(lambda: gc.get_freeze_count() > 0)
    finally:
        if gw is not None:
            await gw.stop()  # no more freezing: give the test process its collector back
        gc.unfreeze()
