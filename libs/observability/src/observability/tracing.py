"""One trace per user action across the services, with OpenTelemetry (off unless `OTEL_*` says).

A request to the API starts (or continues, from `traceparent`) a trace; the trace context then
travels as W3C `traceparent` in the webhook's HTTP headers, in the status message's AMQP headers
(FastStream's telemetry middleware), and in each Redis event (`traceparent` in the envelope), so
the gateway's SSE frame joins the same trace. Log lines carry `trace_id` while a span is active.

Configuration is the SDK's standard environment (`OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_*`,
`OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`, ...). Tracing is on when `OTEL_TRACES_EXPORTER` names
`otlp` or `console`, or when an OTLP endpoint is set, and `OTEL_SDK_DISABLED` is not true. Off,
every function here is a cheap no-op: no provider, no instrumentation, no header written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import propagate, trace
from opentelemetry.context import Context

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider

TRACEPARENT: Final = "traceparent"
_EXPORTERS: Final = frozenset({"otlp", "console"})

_provider: TracerProvider | None = None


def exporters_from_env(env: Mapping[str, str]) -> set[str]:
    """The span exporters the standard `OTEL_*` variables ask for (empty: tracing off)."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return set()
    named = {e.strip().lower() for e in env.get("OTEL_TRACES_EXPORTER", "").split(",")}
    wanted = named & _EXPORTERS
    if not env.get("OTEL_TRACES_EXPORTER") and (
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    ):
        wanted.add("otlp")
    return wanted


def configure_tracing(service: str, env: Mapping[str, str] | None = None) -> bool:
    """Install a tracer provider for this process when the environment asks for one.

    `service` is the default `service.name` (`OTEL_SERVICE_NAME` overrides it). Answers whether
    tracing is on. Safe to call twice (the second call changes nothing).
    """
    global _provider  # noqa: PLW0603 - one provider per process, like the SDK's own global
    if _provider is not None:
        return True
    env = os.environ if env is None else env
    wanted = exporters_from_env(env)
    if not wanted:
        return False
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    resource = Resource.create({SERVICE_NAME: env.get("OTEL_SERVICE_NAME") or service})
    provider = TracerProvider(resource=resource)
    if "otlp" in wanted:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if "console" in wanted:
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    _provider = provider
    return True


def use_provider(provider: TracerProvider) -> None:
    """Use a provider built elsewhere (tests: an in-memory exporter) as this process's."""
    global _provider  # noqa: PLW0603 - see configure_tracing
    _provider = provider
    trace.set_tracer_provider(provider)


def tracing_enabled() -> bool:
    """Whether this process records spans."""
    return _provider is not None


def tracer(name: str) -> trace.Tracer:
    """A tracer for a module: this process's provider's, else the global one (a proxy that
    follows a provider installed later, and records nothing while tracing is off)."""
    return _provider.get_tracer(name) if _provider is not None else trace.get_tracer(name)


def instrument_fastapi(app: FastAPI) -> None:
    """Server spans for every request, continuing an incoming `traceparent`."""
    if not tracing_enabled():
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")


def instrument_httpx() -> None:
    """Client spans for outgoing httpx requests, with `traceparent` in their headers."""
    if not tracing_enabled():
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().instrument()


def rabbit_middlewares() -> tuple[Any, ...]:
    """FastStream's telemetry middleware for a `RabbitBroker` while tracing is on (else none).

    It writes `traceparent` into the AMQP headers of every published message and continues
    that context around every consumed one.
    """
    if _provider is None:
        return ()
    from faststream.rabbit.opentelemetry import RabbitTelemetryMiddleware

    return (RabbitTelemetryMiddleware(tracer_provider=_provider),)


def current_traceparent() -> str | None:
    """The current context as one W3C `traceparent` value, or None without an active span."""
    if not tracing_enabled():
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get(TRACEPARENT)


def context_from(traceparent: str | None) -> Context | None:
    """The context a `traceparent` names (None when absent or tracing is off)."""
    if not traceparent or not tracing_enabled():
        return None
    return propagate.extract({TRACEPARENT: traceparent})


def add_trace_ids(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: `trace_id` and `span_id` of the active span, if one is recording."""
    if _provider is None:
        return event_dict
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict
