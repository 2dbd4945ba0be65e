"""With tracing on, an event carries the trace of the change that published it."""

import uuid
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from contracts import EventName
from events import EventPublisher, OutgoingEvent, read_stream_entry
from observability import tracing
from rita_testing.tracing import recorded_spans


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as exporter:
        yield exporter


async def test_an_event_published_inside_a_span_carries_its_traceparent(
    spans: InMemorySpanExporter, redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    tenant = uuid.uuid4()
    publisher = EventPublisher(redis_client, prefix=redis_prefix)
    own = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    with tracing.tracer("api").start_as_current_span("PATCH /api/data-sources/{id}") as span:
        await publisher.publish_many(
            [
                OutgoingEvent(tenant, EventName.DATA_SOURCE_UPDATE, {"n": 1}),
                OutgoingEvent(tenant, EventName.DATA_SOURCE_UPDATE, {"n": 2}, traceparent=own),
            ]
        )
    context = span.get_span_context()
    expected = f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
    entries = await redis_client.xrange(publisher.key(tenant)) or []
    assert [read_stream_entry(i, f).traceparent for i, f in entries] == [expected, own]
