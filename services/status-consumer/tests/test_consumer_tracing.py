"""The consumer's part of a trace: the batch span links every traced message, and each event
carries the trace of the message that changed its row (a run's end also its connection's)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from contracts import IngestionRunPublic, IngestionRunStatus, parse_status_message
from observability import tracing
from rita_testing.tracing import recorded_spans
from status_consumer.group_commit import Item
from status_consumer.tracing import batch_span, row_traceparents
from store import BatchResult


def traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def item(body: dict[str, Any], header: str | None) -> Item:
    # The delivery is a stand-in: these rules read only its headers.
    delivery = SimpleNamespace(headers={"traceparent": header} if header else {})
    return Item(parse_status_message(body), cast(Any, delivery))


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as exporter:
        yield exporter


def batch() -> tuple[list[Item], BatchResult, dict[str, Any]]:
    tenant, run, run_connection, verified = (uuid.uuid4() for _ in range(4))
    run_trace, verify_trace = traceparent(), traceparent()
    now = datetime.now(UTC)
    items = [
        item(
            {
                "type": "ticket_ingestion",
                "tenant_id": str(tenant),
                "ingestion_run_id": str(run),
                "status": "completed",
                "records_processed": 3,
            },
            run_trace,
        ),
        item(
            {
                "type": "verification",
                "tenant_id": str(tenant),
                "connection_id": str(verified),
                "status": "success",
            },
            verify_trace,
        ),
        item(
            {
                "type": "verification",
                "tenant_id": str(tenant),
                "connection_id": str(uuid.uuid4()),
                "status": "success",
            },
            None,
        ),
    ]
    row = IngestionRunPublic(
        id=run,
        tenant_id=tenant,
        connection_id=run_connection,
        status=IngestionRunStatus.COMPLETED,
        time_range_days=30,
        created_at=now,
        updated_at=now,
    )
    ids = {
        "run": run,
        "run_connection": run_connection,
        "verified": verified,
        "run_trace": run_trace,
        "verify_trace": verify_trace,
    }
    return items, BatchResult(runs=[row]), ids


def test_each_row_carries_its_messages_trace(spans: InMemorySpanExporter) -> None:
    items, result, ids = batch()
    assert row_traceparents(items, result) == {
        ids["run"]: ids["run_trace"],
        ids["run_connection"]: ids["run_trace"],  # the run's end changed its connection too
        ids["verified"]: ids["verify_trace"],
    }


def test_the_batch_span_links_every_traced_message(spans: InMemorySpanExporter) -> None:
    items, _result, ids = batch()
    with batch_span(items):
        pass
    [span] = spans.get_finished_spans()
    assert span.name == "status.apply_batch"
    linked = sorted(f"{link.context.trace_id:032x}" for link in span.links)
    assert linked == sorted(ids[k].split("-")[1] for k in ("run_trace", "verify_trace"))


def test_with_tracing_off_nothing_is_computed() -> None:
    items, result, _ids = batch()
    assert not tracing.tracing_enabled()
    assert row_traceparents(items, result) == {}
