"""With tracing on, the gateway's fan-out of an event is a span of the change's trace."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from contracts import EventName
from events import EventPublisher, OutgoingEvent
from observability import tracing
from rita_testing import eventually
from rita_testing.sse import SseServer
from rita_testing.tracing import recorded_spans
from sse_gateway.app import Gateway

StartGateway = Callable[..., Awaitable[SseServer[Gateway]]]


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as exporter:
        yield exporter


async def test_fan_out_continues_the_trace_the_event_carries(
    spans: InMemorySpanExporter, start_gateway: StartGateway, publisher: EventPublisher
) -> None:
    gw = await start_gateway()
    tenant = uuid.uuid4()
    clients = [await gw.connect(tenant) for _ in range(2)]
    with tracing.tracer("consumer").start_as_current_span("apply batch") as batch:
        [event_id] = await publisher.publish_many(
            [OutgoingEvent(tenant, EventName.INGESTION_RUN_UPDATE, {"n": 1})]
        )
    await eventually(lambda: all(c.ids() == [event_id] for c in clients))
    [fan_out] = [s for s in spans.get_finished_spans() if s.name == "sse fan-out"]
    assert fan_out.context is not None
    assert fan_out.parent is not None
    assert fan_out.context.trace_id == batch.get_span_context().trace_id
    assert fan_out.parent.span_id == batch.get_span_context().span_id
    assert fan_out.attributes is not None
    assert dict(fan_out.attributes) == {
        "rita.event": "ingestion_run_update",
        "rita.event_id": event_id,
        "sse.connections": 2,
    }
