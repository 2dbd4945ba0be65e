"""The consumer's part of a trace: one span per batch, and each event on its message's trace.

A message's trace arrives in its AMQP headers (`traceparent`, written by the sender's FastStream
telemetry middleware, which also wraps this process's handling of it). A batch serves many
traces at once, so its span is a root with a link to each message's context; the events the batch
publishes carry the `traceparent` of the message that changed their row, so the gateway's frame
joins the trace that started at the user's click. With tracing off, none of this runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING
from uuid import UUID

from opentelemetry import trace

from contracts import TicketIngestionMessage
from observability import tracing_enabled
from observability.tracing import TRACEPARENT, context_from, tracer

if TYPE_CHECKING:
    from status_consumer.group_commit import Item
    from store import BatchResult


def message_traceparent(item: Item) -> str | None:
    """The `traceparent` a message arrived with, if any."""
    value = (item.delivery.headers or {}).get(TRACEPARENT)
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    return value if isinstance(value, str) and value else None


@contextmanager
def batch_span(items: Sequence[Item]) -> Iterator[None]:
    """`status.apply_batch`, linked to every traced message of the batch."""
    if not tracing_enabled():
        yield
        return
    links = []
    for item in items:
        context = context_from(message_traceparent(item))
        if context is not None:
            span_context = trace.get_current_span(context).get_span_context()
            links.append(trace.Link(span_context))
    # The process's provider, looked up when tracing is on (not a proxy bound at import).
    with tracer(__name__).start_as_current_span(
        "status.apply_batch", links=links, attributes={"messaging.batch.message_count": len(items)}
    ):
        yield


def row_traceparents(items: Sequence[Item], result: BatchResult) -> dict[UUID, str]:
    """Row id (run or connection) → the `traceparent` of the last message that changed it."""
    if not tracing_enabled():
        return {}
    by_row: dict[UUID, str] = {}
    for item in items:
        traceparent = message_traceparent(item)
        if traceparent is None:
            continue
        message = item.message
        if isinstance(message, TicketIngestionMessage):
            by_row[message.ingestion_run_id] = traceparent
        else:
            by_row[message.connection_id] = traceparent
    # A run's end also changes its connection: that event belongs to the run's trace.
    for run in result.runs:
        if run.id in by_row:
            by_row.setdefault(run.connection_id, by_row[run.id])
    return by_row
