"""Per-connection state: a bounded list of shared frames, a cursor, and little else.

One of these lives as long as its connection, 10,000 at a time: slots only, and a plain list
as the queue (an empty deque costs ~600 bytes, an empty list 56, and the queue is almost always
empty or holds one frame).
"""

from __future__ import annotations

import asyncio
import time

from sse_gateway import metrics
from sse_gateway.frames import ZERO_ID, Control, Frame, StreamId, reconnect_frame

Item = Frame | Control | bytes


class Subscriber:
    """One SSE connection of one tenant, fed by the hub and drained by its stream."""

    __slots__ = (
        "_items",
        "_limit",
        "_waiter",
        "closing",
        "cursor",
        "deadline_slot",
        "group",
        "last_write",
        "sending",
        "task",
        "tenant",
        "timed_out",
    )

    def __init__(self, tenant: str, limit: int) -> None:
        self.tenant = tenant
        self.cursor: StreamId = ZERO_ID  # id of the last event this client has seen
        self.closing = False
        self.deadline_slot = 0  # the lifetime wheel's bucket (see ticker.py)
        self.group = 0  # the ticker's heartbeat group
        self.last_write = time.monotonic()  # when the last write started (ticker.now)
        self.sending = False  # a write is in progress (the ticker cuts one stuck too long)
        self.timed_out = False
        self.task: asyncio.Task[object] | None = None  # the connection's task, to cut a stuck write
        self._items: list[Item] = []
        self._limit = limit
        self._waiter: asyncio.Future[None] | None = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def offer(self, item: Frame | bytes) -> None:
        """Queue a live frame; a full queue means the client is too slow: evict it."""
        if self.closing:
            return
        if len(self._items) >= self._limit:
            metrics.EVICTIONS.inc()
            self.close(reconnect_frame("slow_client"))
            return
        self._items.append(item)
        self._wake()

    def offer_ping(self, ping: bytes) -> None:
        """Heartbeat only when idle: a queued frame will be written soon anyway."""
        if not self._items and not self.closing:
            self._items.append(ping)
            self._wake()

    def control(self, item: Control) -> None:
        """Queue an instruction past the bound (it is rare and tiny)."""
        if self.closing:
            return
        self._items.append(item)
        self._wake()

    def close(self, final: Control) -> None:
        """Drop whatever is queued (frees memory now) and end the stream after `final`."""
        if self.closing:
            return
        self._items = [final]
        self.closing = True
        self._wake()

    async def take(self) -> list[Item]:
        """Everything queued so far (oldest first), waiting if there is nothing."""
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        items, self._items = self._items, []
        return items
