"""Prometheus metrics of the API and a light ASGI middleware that counts requests."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("connections_api_requests_total", "HTTP requests", ["method", "route", "status"])
REQUEST_SECONDS = Histogram(
    "connections_api_request_seconds", "HTTP request latency", ["method", "route"]
)
WEBHOOK_DELIVERIES = Counter(
    "connections_api_webhook_deliveries_total",
    "Webhook deliveries by action and outcome (delivered, retry, failed, skipped)",
    ["action", "outcome"],
)
OUTBOX_DEPTH = Gauge("connections_api_outbox_pending", "Webhooks waiting in the outbox")
ACTIVE_RUNS = Gauge("connections_api_active_runs", "Ingestion runs pending or running")
EVENTS_PUBLISHED = Counter(
    "connections_api_events_published_total", "Events published to Redis", ["outcome"]
)


class MetricsMiddleware:
    """Counts each HTTP request by route template (never by raw path: ids would explode labels)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # `labels()` validates and locks on every call; the label sets are few, keep the children.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            self._observe(method, template, status, time.perf_counter() - start)

    def _observe(self, method: str, template: str, status: int, seconds: float) -> None:
        counter = self._counters.get((method, template, status))
        if counter is None:
            counter = REQUESTS.labels(method, template, str(status))
            self._counters[(method, template, status)] = counter
        counter.inc()
        timer = self._timers.get((method, template))
        if timer is None:
            timer = self._timers[(method, template)] = REQUEST_SECONDS.labels(method, template)
        timer.observe(seconds)
