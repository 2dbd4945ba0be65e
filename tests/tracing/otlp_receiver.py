"""An OTLP/HTTP trace receiver on loopback that keeps every span in memory (the tests' exporter).

The services export with their ordinary OTLP exporter (`OTEL_EXPORTER_OTLP_ENDPOINT` pointing
here); the test reads what arrived. protobuf and JSON bodies are both accepted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


@dataclass(frozen=True)
class ReceivedSpan:
    """What a test needs of one exported span."""

    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    linked_trace_ids: tuple[str, ...]


class SpanStore:
    """Spans received so far (thread-safe: the server answers on its own threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: list[ReceivedSpan] = []

    def add(self, request: ExportTraceServiceRequest) -> None:
        received: list[ReceivedSpan] = []
        for resource_spans in request.resource_spans:
            service = next(
                (
                    a.value.string_value
                    for a in resource_spans.resource.attributes
                    if a.key == "service.name"
                ),
                "",
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(
                        ReceivedSpan(
                            service=service,
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            linked_trace_ids=tuple(link.trace_id.hex() for link in span.links),
                        )
                    )
        with self._lock:
            self._spans.extend(received)

    def spans(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self._spans)


@contextmanager
def otlp_receiver() -> Iterator[tuple[str, SpanStore]]:
    """`(endpoint, store)`: set `OTEL_EXPORTER_OTLP_ENDPOINT=endpoint` on the processes."""
    store = SpanStore()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            request = ExportTraceServiceRequest()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                from google.protobuf import json_format  # type: ignore[import-untyped]

                json_format.Parse(body, request)
            else:
                request.ParseFromString(body)
            store.add(request)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", store
    finally:
        server.shutdown()
        server.server_close()
