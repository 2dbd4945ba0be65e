"""Per-connection state: a bounded queue of shared frames, a cursor, and nothing else."""

from __future__ import annotations

import asyncio
from collections import deque

from sse_gateway import metrics
from sse_gateway.frames import ZERO_ID, Control, Frame, StreamId, reconnect_frame

Item = Frame | Control | bytes


class Subscriber:
    """One SSE connection of one tenant, fed by the hub and drained by its stream."""

    __slots__ = ("_items", "_limit", "_waiter", "closing", "cursor", "lifetime_timer", "tenant")

    def __init__(self, tenant: str, limit: int) -> None:
        self.tenant = tenant
        self.cursor: StreamId = ZERO_ID  # id of the last event this client has seen
        self.closing = False
        self.lifetime_timer: asyncio.TimerHandle | None = None
        self._items: deque[Item] = deque()
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
        self._items.clear()
        self._items.append(final)
        self.closing = True
        self._wake()

    async def get(self) -> Item:
        """Next queued item, waiting if there is none."""
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()
