"""Spans recorded in memory, for a test that follows one trace (tracing is off in tests).

The OpenTelemetry SDK takes one global tracer provider per process and ignores later ones: when
an earlier test installed one, the recorder joins it instead of being silently ignored.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability import tracing


@contextlib.contextmanager
def recorded_spans() -> Iterator[InMemorySpanExporter]:
    """Turn tracing on for the block; every finished span lands in the yielded exporter."""
    exporter = InMemorySpanExporter()
    current = trace.get_tracer_provider()
    provider = current if isinstance(current, TracerProvider) else TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    previous = tracing._provider
    tracing.use_provider(provider)
    try:
        yield exporter
    finally:
        tracing._provider = previous  # tracing off again for the tests that follow
        exporter.shutdown()
