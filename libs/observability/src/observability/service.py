"""The one start-up call of every service for its logs and traces."""

from __future__ import annotations

from observability.logging import configure_logging
from observability.tracing import configure_tracing, instrument_httpx


def configure_observability(service: str, *, level: str = "INFO", fmt: str = "json") -> None:
    """A service's first call: logs as `configure_logging`, traces when `OTEL_*` asks for them.

    With tracing on, every outgoing httpx request carries `traceparent`; the service still
    instruments its own app (`instrument_fastapi`) and broker (`rabbit_middlewares`).
    """
    configure_logging(service, level=level, fmt=fmt)
    if configure_tracing(service):
        instrument_httpx()
