"""The lean streaming path: one coroutine per connection writes SSE bytes straight to `send`.

No `EventSourceResponse` here: per connection it costs an anyio task group, three tasks (stream,
disconnect listener, exit-signal listener) and a cancel scope per write, which was most of a
connection's memory. Instead the connection's own task writes what the hub queued, a single
small task waits for the disconnect, and timers (heartbeat, lifetime, stuck writes) come from the
hub's one ticker. Frames are still encoded with sse-starlette's `ServerSentEvent` (frames.py).
"""

from __future__ import annotations

import asyncio
from typing import Final

import structlog
from starlette.types import Message, Receive, Send

from events import EventsRedis
from sse_gateway import metrics
from sse_gateway.frames import Control, Frame, reconnect_frame, resync_payload
from sse_gateway.hub import Hub
from sse_gateway.replay import REDIS_DOWN, CatchUp, catch_up
from sse_gateway.subscriber import Item, Subscriber
from sse_gateway.ticker import now

log = structlog.get_logger(__name__)

# The headers EventSourceResponse sends, built once for every connection.
START: Final[Message] = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"cache-control", b"no-store"),
        (b"connection", b"keep-alive"),
        (b"x-accel-buffering", b"no"),
    ],
}
END: Final[Message] = {"type": "http.response.body", "body": b"", "more_body": False}
# The client went away: end the stream without writing anything more.
GONE: Final = Control("gone", final=True)


def _catch_up_bytes(sub: Subscriber, result: CatchUp) -> list[bytes]:
    out = [resync_payload(result.resync_id)] if result.resync else []
    out.extend(frame.payload for frame in result.frames)
    metrics.EVENTS_DELIVERED.inc(len(result.frames))
    sub.cursor = result.cursor
    return out


def first_chunk(sub: Subscriber, head: bytes, result: CatchUp) -> bytes:
    """The retry hint and the initial catch-up, written as the stream's first chunk."""
    return head + b"".join(_catch_up_bytes(sub, result))


async def _resume(sub: Subscriber, redis: EventsRedis, key: str) -> list[bytes]:
    """After a Redis outage: re-read the tenant's stream from the cursor."""
    try:
        result = await catch_up(redis, key, sub.cursor)
    except REDIS_DOWN as exc:
        # Cannot tell what was missed: make the client come back (and replay) later.
        log.warning("resume_failed", tenant=sub.tenant, error=type(exc).__name__)
        sub.close(reconnect_frame("redis_unavailable"))
        return []
    return _catch_up_bytes(sub, result)


async def _render(
    sub: Subscriber, redis: EventsRedis, key: str, items: list[Item]
) -> tuple[bytes, bool]:
    """The bytes for a batch of queued items, and whether the stream ends after them."""
    out: list[bytes] = []
    delivered = 0
    final = False
    for item in items:
        if isinstance(item, Frame):
            # Live frames queued while a catch-up ran may repeat what it sent: drop them.
            if item.id <= sub.cursor:
                continue
            sub.cursor = item.id
            delivered += 1
            out.append(item.payload)
        elif isinstance(item, bytes):
            out.append(item)
        elif item.final:
            out.append(item.payload)
            final = True
            break
        else:  # resume after a Redis outage
            out.extend(await _resume(sub, redis, key))
    metrics.EVENTS_DELIVERED.inc(delivered)
    return b"".join(out), final


async def _write(sub: Subscriber, send: Send, chunk: bytes) -> None:
    # The ticker cuts a write that stays blocked (the client stopped reading) too long.
    sub.last_write = now()
    sub.sending = True
    try:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    finally:
        sub.sending = False


async def _watch_disconnect(sub: Subscriber, receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass  # a request body, if any: ignored
    sub.close(GONE)


async def serve(
    receive: Receive,
    send: Send,
    *,
    hub: Hub,
    sub: Subscriber,
    redis: EventsRedis,
    first: bytes,
) -> None:
    """Stream to one client until its subscriber ends; always unregisters it."""
    sub.task = asyncio.current_task()
    watcher = asyncio.ensure_future(_watch_disconnect(sub, receive))
    key = hub.key(sub.tenant)
    try:
        await send(START)
        await _write(sub, send, first)
        final = False
        while not final:
            chunk, final = await _render(sub, redis, key, await sub.take())
            if chunk:
                await _write(sub, send, chunk)
        await send(END)
    except asyncio.CancelledError:
        if not sub.timed_out:
            raise
        # Our own cut (send timeout): uvicorn closes a connection whose response is unfinished.
        asyncio.current_task().uncancel()  # type: ignore[union-attr]
    finally:
        watcher.cancel()
        hub.unsubscribe(sub)
