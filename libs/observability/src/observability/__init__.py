"""Logging, tracing and metrics plumbing shared by every service."""

from observability.logging import REDACTED, configure_logging, redact_secrets
from observability.metrics import metrics_response
from observability.startup import (
    describe_settings_error,
    freeze_startup_objects,
    load_settings_or_exit,
)

__all__ = [
    "REDACTED",
    "configure_logging",
    "describe_settings_error",
    "freeze_startup_objects",
    "load_settings_or_exit",
    "metrics_response",
    "redact_secrets",
]
