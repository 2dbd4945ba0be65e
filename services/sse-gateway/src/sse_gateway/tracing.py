"""The gateway's part of a trace: one span per event fanned out to a tenant's connections.

The event carries the `traceparent` of the change that caused it; the span continues that trace,
so one user action is followed from the API request to the SSE frames. Only called while tracing
is on (`observability.tracing_enabled()`), so the lean path pays nothing otherwise.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from observability.tracing import context_from, tracer

_tracer = tracer(__name__)


def fan_out_span(
    traceparent: str, tenant: str | None, connections: int
) -> AbstractContextManager[Any]:
    """`sse.fan_out` as a child of the change's span."""
    return _tracer.start_as_current_span(
        "sse.fan_out",
        context=context_from(traceparent),
        attributes={"rita.tenant_id": tenant or "", "rita.sse.connections": connections},
    )
