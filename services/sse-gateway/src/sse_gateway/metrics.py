"""Prometheus metrics of the gateway (process-wide, exposed on `/metrics`)."""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Gauge

OPEN_CONNECTIONS: Final = Gauge("sse_gateway_open_connections", "SSE connections held open")
EVENTS_DELIVERED: Final = Counter(
    "sse_gateway_events_delivered", "Data events written to clients (live and replayed)"
)
REPLAYS: Final = Counter("sse_gateway_replays", "Catch-ups served from a tenant's stream")
REPLAYED_EVENTS: Final = Counter("sse_gateway_replayed_events", "Events resent from streams")
RESYNCS: Final = Counter("sse_gateway_resyncs", "`resync` events sent (id older than window)")
EVICTIONS: Final = Counter(
    "sse_gateway_slow_client_evictions", "Clients disconnected for not draining their queue"
)
LIFETIME_ENDS: Final = Counter(
    "sse_gateway_lifetime_reconnects", "Connections ended with `reconnect` at their lifetime"
)
REDIS_RECONNECTS: Final = Counter(
    "sse_gateway_redis_reconnects", "Times the Redis subscription was re-established"
)
REDIS_CONNECTED: Final = Gauge("sse_gateway_redis_connected", "1 while the subscription is live")
REJECTED: Final = Counter(
    "sse_gateway_rejected_connections", "Connections refused before streaming", ["reason"]
)
