"""One Redis pattern subscription for the whole process, fanned out to tenants' connections.

The hub owns the only pub/sub connection. Each channel message is decoded and encoded as SSE
once, then the same bytes are queued to every connection of that tenant. When the subscription
drops, clients are kept; once it is back, every connection is told to `resume` (re-read its
tenant's stream from its cursor), so nothing published during the outage is lost silently.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import structlog
from redis.asyncio import Redis
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from contracts import events_channel_pattern, tenant_from_key
from events import decode_channel_message
from sse_gateway import metrics
from sse_gateway.frames import RESUME, Control, Frame, reconnect_frame
from sse_gateway.subscriber import Subscriber
from sse_gateway.ticker import Ticker

log = structlog.get_logger(__name__)


class Hub:
    """Tenant → connections registry fed by one PSUBSCRIBE."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str,
        queue_size: int,
        heartbeat_seconds: float,
        lifetime_seconds: float,
        lifetime_jitter: float,
        send_timeout_seconds: float,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._queue_size = queue_size
        self._tenants: dict[str, set[Subscriber]] = {}
        self._ticker = Ticker(
            self.subscribers,
            lifetime=lifetime_seconds,
            jitter=lifetime_jitter,
            heartbeat=heartbeat_seconds,
            send_timeout=send_timeout_seconds,
        )
        self.count = 0
        self.connected = False
        self.draining = False
        self._tasks: list[asyncio.Task[None]] = []

    # -- connections -------------------------------------------------------------------------
    def subscribe(self, tenant: str) -> Subscriber:
        """Register a connection; live events are queued to it from now on."""
        sub = Subscriber(tenant, self._queue_size)
        self._tenants.setdefault(tenant, set()).add(sub)
        self.count += 1
        metrics.OPEN_CONNECTIONS.inc()
        self._ticker.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        """Forget a connection (idempotent)."""
        subs = self._tenants.get(sub.tenant)
        if subs is None or sub not in subs:
            return
        subs.discard(sub)
        if not subs:
            del self._tenants[sub.tenant]
        self.count -= 1
        metrics.OPEN_CONNECTIONS.dec()
        self._ticker.remove(sub)
        sub.task = None

    def subscribers(self) -> Iterator[Subscriber]:
        """Every open connection (callers must not await while iterating)."""
        for subs in self._tenants.values():
            yield from subs

    def _broadcast(self, item: Control) -> None:
        for subs in self._tenants.values():
            for sub in subs:
                sub.control(item)

    def drain(self) -> None:
        """Shutdown: refuse new connections and tell every client to reconnect elsewhere."""
        self.draining = True
        final = reconnect_frame("shutdown")
        for subs in self._tenants.values():
            for sub in subs:
                sub.close(final)

    # -- background tasks --------------------------------------------------------------------
    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._ticker.run())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _listen(self) -> None:
        first = True
        retrying = AsyncRetrying(
            # Any failure (Redis gone, a bug in one message) must not end the only subscription.
            retry=retry_if_exception_type(Exception),
            wait=wait_exponential_jitter(multiplier=0.1, max=5.0, jitter=0.5),
            before_sleep=lambda state: log.warning(
                "redis_subscription_lost",
                attempt=state.attempt_number,
                error=type(state.outcome.exception()).__name__ if state.outcome else None,
            ),
        )
        async for attempt in retrying:
            with attempt:
                await self._subscribe_and_dispatch(first)
            first = False

    async def _subscribe_and_dispatch(self, first: bool) -> None:
        pubsub = self._redis.pubsub()
        try:
            await pubsub.psubscribe(events_channel_pattern(self._prefix))
            while (await pubsub.get_message(timeout=10.0)) is None:
                pass  # the psubscribe confirmation: from here on nothing is missed
            self.connected = True
            metrics.REDIS_CONNECTED.set(1)
            if not first:
                metrics.REDIS_RECONNECTS.inc()
                log.info("redis_subscription_restored", connections=self.count)
                self._broadcast(RESUME)
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=30.0)
                if message is not None and message["type"] == "pmessage":
                    self.dispatch(message)
        finally:
            self.connected = False
            metrics.REDIS_CONNECTED.set(0)
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    def dispatch(self, message: dict[str, Any]) -> None:
        """Queue one channel message to its tenant's local connections."""
        channel = message["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else str(channel)
        tenant = tenant_from_key(channel, self._prefix)
        subs = self._tenants.get(tenant) if tenant is not None else None
        if not subs:
            return  # no client of this tenant here: skip even the decoding
        try:
            frame = Frame.from_event(decode_channel_message(message["data"]))
        except ValueError:
            log.warning("undecodable_event", channel=channel)
            return
        for sub in list(subs):
            sub.offer(frame)
