"""SSE gateway: authenticated, tenant-scoped fan-out of Rita events from Redis."""
