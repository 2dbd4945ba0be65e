"""One ticker for every connection: lifetimes (a bucketed wheel), heartbeats, stuck writes.

Per-connection timers (`call_later`, a task, a cancel scope) cost memory for each of 10,000
connections; this costs two set entries per connection and one wake-up per tick.

Heartbeats are spread: connections are split into groups and each tick visits one group, so
every connection is visited every half heartbeat interval and pinged only if it has written
nothing for that long (at most one interval between writes). Pinging all 10,000 at once would
queue 10,000 writes in one loop iteration: a stall of a few hundred milliseconds for every
event published meanwhile.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable, Iterable

import structlog

from sse_gateway import metrics
from sse_gateway.frames import PING, reconnect_frame
from sse_gateway.subscriber import Subscriber

log = structlog.get_logger(__name__)


def now() -> float:
    """The clock of the ticker and of `Subscriber.last_write`."""
    return time.monotonic()


class Ticker:
    """Lifetime wheel (buckets of `tick` seconds), spread heartbeats, send-timeout pass."""

    def __init__(
        self,
        subscribers: Callable[[], Iterable[Subscriber]],
        *,
        lifetime: float,
        jitter: float,
        heartbeat: float,
        send_timeout: float,
    ) -> None:
        self._subscribers = subscribers
        self._lifetime = lifetime
        self._jitter = jitter
        self._idle = heartbeat / 2
        self._send_timeout = send_timeout
        # Fine enough for the shortest setting, never more than one wake-up a second.
        self.tick = min(1.0, lifetime / 10, heartbeat / 4, send_timeout / 4)
        self._wheel: dict[int, set[Subscriber]] = {}
        self._next_slot = self._slot(now())
        # Visiting one group per tick covers them all within half a heartbeat interval.
        self._groups: list[set[Subscriber]] = [
            set() for _ in range(max(1, math.floor(self._idle / self.tick)))
        ]
        self._turn = 0
        self._added = 0

    def _slot(self, at: float) -> int:
        return math.floor(at / self.tick)

    def add(self, sub: Subscriber) -> None:
        """Schedule `sub`'s heartbeats and the end of its (jittered) lifetime."""
        lifetime = self._lifetime * (1 - random.random() * self._jitter)  # noqa: S311
        # Never before the lifetime: round the deadline up to the next bucket.
        sub.deadline_slot = max(math.ceil((now() + lifetime) / self.tick), self._next_slot)
        self._wheel.setdefault(sub.deadline_slot, set()).add(sub)
        sub.group = self._added % len(self._groups)
        self._added += 1
        self._groups[sub.group].add(sub)

    def remove(self, sub: Subscriber) -> None:
        self._groups[sub.group].discard(sub)
        bucket = self._wheel.get(sub.deadline_slot)
        if bucket is not None:
            bucket.discard(sub)
            if not bucket:
                del self._wheel[sub.deadline_slot]

    async def run(self) -> None:
        next_scan = now()
        while True:
            await asyncio.sleep(self.tick)
            at = now()
            self._expire(at)
            self._heartbeat(at)
            if at >= next_scan + min(1.0, self._send_timeout / 4):
                next_scan = at
                self._cut_stuck_writes(at)

    def _heartbeat(self, at: float) -> None:
        group = self._groups[self._turn]
        self._turn = (self._turn + 1) % len(self._groups)
        for sub in group:
            if not sub.sending and at - sub.last_write >= self._idle:
                sub.offer_ping(PING)

    def _expire(self, at: float) -> None:
        current = self._slot(at)
        while self._next_slot <= current:
            for sub in self._wheel.pop(self._next_slot, ()):
                if not sub.closing:
                    metrics.LIFETIME_ENDS.inc()
                sub.close(reconnect_frame("lifetime"))
            self._next_slot += 1

    def _cut_stuck_writes(self, at: float) -> None:
        """A client that stopped reading blocks its write forever: end that connection."""
        for sub in self._subscribers():
            if sub.sending and at - sub.last_write > self._send_timeout and not sub.timed_out:
                sub.timed_out = True
                log.info("send_timeout", tenant=sub.tenant)
                if sub.task is not None:
                    sub.task.cancel()
