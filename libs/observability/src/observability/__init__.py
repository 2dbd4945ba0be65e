"""Logging, tracing and metrics plumbing shared by every service."""

from observability.logging import REDACTED, configure_logging, redact_secrets
from observability.metrics import metrics_response
from observability.retries import RetryLog
from observability.service import configure_observability
from observability.startup import (
    describe_settings_error,
    freeze_startup_objects,
    load_settings_or_exit,
)
from observability.tracing import (
    configure_tracing,
    current_traceparent,
    instrument_fastapi,
    instrument_httpx,
    rabbit_middlewares,
    tracing_enabled,
)

__all__ = [
    "REDACTED",
    "RetryLog",
    "configure_logging",
    "configure_observability",
    "configure_tracing",
    "current_traceparent",
    "describe_settings_error",
    "freeze_startup_objects",
    "instrument_fastapi",
    "instrument_httpx",
    "load_settings_or_exit",
    "metrics_response",
    "rabbit_middlewares",
    "redact_secrets",
    "tracing_enabled",
]
