"""One ticker for every connection: lifetimes (a bucketed wheel), heartbeats, stuck writes.

Per-connection timers (`call_later`, a task, a cancel scope) cost memory for each of 10,000
connections; this costs one set entry per connection and one wake-up per tick.
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


class Ticker:
    """Lifetime wheel (buckets of `tick` seconds), heartbeat pass, and send-timeout pass."""

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
        self._heartbeat = heartbeat
        self._send_timeout = send_timeout
        # Fine enough for the shortest setting, never more than one wake-up a second.
        self.tick = min(1.0, lifetime / 10, heartbeat / 4, send_timeout / 4)
        self._wheel: dict[int, set[Subscriber]] = {}
        self._next_slot = self._slot(self._now())

    @staticmethod
    def _now() -> float:
        return time.monotonic()  # the clock of `Subscriber.sending_since` too

    def _slot(self, at: float) -> int:
        return math.floor(at / self.tick)

    def add(self, sub: Subscriber) -> None:
        """Schedule the end of `sub`'s lifetime, jittered so that reconnects spread out."""
        lifetime = self._lifetime * (1 - random.random() * self._jitter)  # noqa: S311
        # Never before the lifetime: round the deadline up to the next bucket.
        sub.deadline_slot = max(math.ceil((self._now() + lifetime) / self.tick), self._next_slot)
        self._wheel.setdefault(sub.deadline_slot, set()).add(sub)

    def remove(self, sub: Subscriber) -> None:
        bucket = self._wheel.get(sub.deadline_slot)
        if bucket is not None:
            bucket.discard(sub)
            if not bucket:
                del self._wheel[sub.deadline_slot]

    async def run(self) -> None:
        next_ping = next_scan = self._now()
        while True:
            await asyncio.sleep(self.tick)
            now = self._now()
            self._expire(now)
            if now >= next_ping + self._heartbeat:
                next_ping = now
                for sub in self._subscribers():
                    sub.offer_ping(PING)
            if now >= next_scan + min(1.0, self._send_timeout / 4):
                next_scan = now
                self._cut_stuck_writes(now)

    def _expire(self, now: float) -> None:
        current = self._slot(now)
        while self._next_slot <= current:
            for sub in self._wheel.pop(self._next_slot, ()):
                if not sub.closing:
                    metrics.LIFETIME_ENDS.inc()
                sub.close(reconnect_frame("lifetime"))
            self._next_slot += 1

    def _cut_stuck_writes(self, now: float) -> None:
        """A client that stopped reading blocks its write forever: end that connection."""
        for sub in self._subscribers():
            since = sub.sending_since
            if since and now - since > self._send_timeout and not sub.timed_out:
                sub.timed_out = True
                log.info("send_timeout", tenant=sub.tenant)
                if sub.task is not None:
                    sub.task.cancel()
