"""Prometheus metrics of itsm-sync (served on `/metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

WEBHOOKS = Counter(
    "itsm_sync_webhooks_total", "Webhooks received, by action and outcome", ["action", "outcome"]
)
UPSTREAM_REQUESTS = Counter(
    "itsm_sync_upstream_requests_total",
    "HTTP calls to ITSM systems, by system (Jira, ServiceNow) and status code or network_error",
    ["system", "outcome"],
)
UPSTREAM_RETRIES = Counter(
    "itsm_sync_upstream_retries_total",
    "Calls to ITSM systems retried, by system and kind (rate_limited, transient)",
    ["system", "kind"],
)
MESSAGES = Counter(
    "itsm_sync_status_messages_total",
    "Status messages published, by type and status",
    ["type", "status"],
)
RUNS_ACTIVE = Gauge("itsm_sync_runs_active", "Sync runs paging through an ITSM system right now")
RUNS_FINISHED = Counter(
    "itsm_sync_runs_finished_total", "Sync runs that ended, by status", ["status"]
)
TICKETS = Counter("itsm_sync_tickets_imported_total", "Tickets stored (upserted)")
PAGE_SECONDS = Histogram(
    "itsm_sync_page_seconds",
    "Time to fetch one page of tickets from the ITSM system (retries included)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
