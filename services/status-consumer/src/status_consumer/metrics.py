"""Prometheus metrics of the consumer."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter(
    "status_consumer_messages_total",
    "Status messages handled, by message type and outcome",
    ["type", "outcome"],
)
DEAD_LETTERED = Counter(
    "status_consumer_dead_lettered_total", "Messages moved to the dead-letter queue", ["reason"]
)
REQUEUED = Counter(
    "status_consumer_requeued_total", "Messages republished for another attempt after a failure"
)
BATCH_SIZE = Histogram(
    "status_consumer_batch_size",
    "Messages per committed batch",
    buckets=(1, 2, 5, 10, 25, 50, 100, 200, 300, 500, 1000),
)
BATCH_SECONDS = Histogram(
    "status_consumer_batch_seconds",
    "Time to apply and commit one batch",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
# From the message's own `timestamp` (set by the publisher) to the commit that applied it.
MESSAGE_AGE = Histogram(
    "status_consumer_message_age_at_commit_seconds",
    "Seconds from a message's timestamp to the commit that applied it",
    buckets=(
        0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2,
        0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 20, 30, 60,
    ),
)  # fmt: skip
EVENTS = Counter("status_consumer_events_total", "Events published to Redis", ["event"])
RETRIES = Counter(
    "status_consumer_outage_retries_total",
    "Retries while a dependency was unreachable",
    ["dependency"],
)
TENANT_MISMATCHES = Counter(
    "status_consumer_tenant_mismatches_total", "Messages naming another tenant's row"
)
IN_FLIGHT = Gauge("status_consumer_in_flight_messages", "Messages waiting for their commit")
