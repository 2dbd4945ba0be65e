"""Tracing helpers: off by default, W3C propagation when on, trace ids on log lines."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability import tracing
from rita_testing.tracing import recorded_spans


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, set()),
        ({"OTEL_SERVICE_NAME": "api"}, set()),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, {"otlp"}),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, {"otlp"}),
        ({"OTEL_TRACES_EXPORTER": "console"}, {"console"}),
        ({"OTEL_TRACES_EXPORTER": "otlp,console"}, {"otlp", "console"}),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}, set()),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, set()),
    ],
)
def test_tracing_is_off_unless_the_standard_variables_ask(
    env: dict[str, str], expected: set[str]
) -> None:
    assert tracing.exporters_from_env(env) == expected


def test_off_means_no_header_and_no_log_fields() -> None:
    assert not tracing.tracing_enabled()
    assert tracing.current_traceparent() is None
    assert tracing.context_from("00-" + "1" * 32 + "-" + "2" * 16 + "-01") is None
    assert tracing.add_trace_ids(None, "info", {"event": "x"}) == {"event": "x"}


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as exporter:
        yield exporter


def test_traceparent_carries_the_trace_to_the_next_process(spans: InMemorySpanExporter) -> None:
    with tracing.tracer("api").start_as_current_span("request") as span:
        header = tracing.current_traceparent()
    assert header is not None
    context = span.get_span_context()
    # W3C: version, the span's trace id and span id, flags.
    assert header.split("-")[:3] == ["00", f"{context.trace_id:032x}", f"{context.span_id:016x}"]
    # The receiving side continues the same trace from the header alone.
    with tracing.tracer("sync").start_as_current_span(
        "webhook", context=tracing.context_from(header)
    ):
        pass
    request, webhook = spans.get_finished_spans()
    assert request.context is not None
    assert webhook.context is not None
    assert webhook.context.trace_id == request.context.trace_id
    assert webhook.parent is not None
    assert webhook.parent.span_id == request.context.span_id


def test_log_lines_carry_the_active_trace_id(
    spans: InMemorySpanExporter, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    from observability import configure_logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("tracing-test")
    try:
        with tracing.tracer("api").start_as_current_span("request") as span:
            structlog.get_logger().info("inside")
        structlog.get_logger().info("outside")
    finally:
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()
        root.handlers[:], root.level = handlers, level
    inside, outside = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert inside["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert "trace_id" not in outside
