"""The body of one SSE connection: catch-up first, then live frames without duplicates."""

from __future__ import annotations

from collections.abc import AsyncIterator

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sse_starlette import EventSourceResponse
from starlette.types import Receive, Scope, Send

from contracts import tenant_events_key
from sse_gateway import metrics
from sse_gateway.frames import Frame, reconnect_frame, resync_payload
from sse_gateway.hub import Hub
from sse_gateway.replay import CatchUp, catch_up
from sse_gateway.subscriber import Subscriber

log = structlog.get_logger(__name__)


def _catch_up_bytes(sub: Subscriber, result: CatchUp) -> list[bytes]:
    out = [resync_payload(result.resync_id)] if result.resync else []
    out.extend(frame.payload for frame in result.frames)
    metrics.EVENTS_DELIVERED.inc(len(result.frames))
    sub.cursor = result.cursor
    return out


async def event_stream(
    sub: Subscriber, redis: Redis, prefix: str, head: bytes, first: CatchUp
) -> AsyncIterator[bytes]:
    """Yield SSE bytes: `head` (retry hint) + first catch-up, then queued items until final."""
    yield head + b"".join(_catch_up_bytes(sub, first))
    while True:
        item = await sub.get()
        if isinstance(item, Frame):
            # Live frames queued while the catch-up ran may repeat what it sent: drop them.
            if item.id <= sub.cursor:
                continue
            sub.cursor = item.id
            metrics.EVENTS_DELIVERED.inc()
            yield item.payload
        elif isinstance(item, bytes):
            yield item
        elif item.final:
            yield item.payload
            return
        else:  # resume after a Redis outage: re-read the stream from the cursor
            chunk = b"".join(await _resume(sub, redis, prefix))
            if chunk:
                yield chunk


async def _resume(sub: Subscriber, redis: Redis, prefix: str) -> list[bytes]:
    try:
        result = await catch_up(redis, tenant_events_key(sub.tenant, prefix), sub.cursor)
    except RedisError as exc:
        # Cannot tell what was missed: make the client come back (and replay) later.
        log.warning("resume_failed", tenant=sub.tenant, error=type(exc).__name__)
        sub.close(reconnect_frame("redis_unavailable"))
        return []
    return _catch_up_bytes(sub, result)


class GatewayResponse(EventSourceResponse):
    """An EventSourceResponse that always unregisters its subscriber, however it ends."""

    def __init__(
        self, hub: Hub, sub: Subscriber, content: AsyncIterator[bytes], *, send_timeout: float
    ) -> None:
        # ping=0: heartbeats come from the hub's single ticker, not one task per connection.
        super().__init__(content, ping=0, send_timeout=send_timeout)
        self._hub = hub
        self._sub = sub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._hub.unsubscribe(self._sub)
