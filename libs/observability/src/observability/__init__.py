"""Logging and metrics plumbing shared by every service."""

from observability.logging import REDACTED, configure_logging, redact_secrets
from observability.metrics import metrics_response

__all__ = ["REDACTED", "configure_logging", "metrics_response", "redact_secrets"]
