"""Tenant → connections registry, fed by one listener for the whole process.

The listener (`listeners.py`) owns the pub/sub connection(s): one pattern subscription on a
single Redis, sharded per-tenant subscriptions on a Redis Cluster. Each channel message is
decoded and encoded as SSE once, then the same bytes are queued to every connection of that
tenant. When the subscription drops, clients are kept; once it is back, every connection is told
to `resume` (re-read its tenant's stream from its cursor), so nothing published during the
outage is lost silently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from contracts import tenant_events_key, tenant_from_key
from events import WireEvent, read_channel_message
from events.wire import text
from observability.tracing import context_from, tracer, tracing_enabled
from sse_gateway import metrics
from sse_gateway.frames import RESUME, Frame, reconnect_frame
from sse_gateway.listeners import make_listener
from sse_gateway.subscriber import Subscriber
from sse_gateway.ticker import Ticker

log = structlog.get_logger(__name__)
_tracer = tracer(__name__)


class Hub:
    """Tenant → connections registry fed by the listener."""

    def __init__(
        self,
        redis: Redis | RedisCluster,
        *,
        prefix: str,
        queue_size: int,
        heartbeat_seconds: float,
        lifetime_seconds: float,
        lifetime_jitter: float,
        send_timeout_seconds: float,
    ) -> None:
        self._prefix = prefix
        self._cluster = isinstance(redis, RedisCluster)
        self._listener = make_listener(redis, prefix, self.dispatch, self._resume_all)
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
        self.draining = False
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def connected(self) -> bool:
        """True while live events flow (the subscription is confirmed)."""
        return self._listener.connected

    def key(self, tenant: str) -> str:
        """The tenant's stream key (hash-tagged on a Redis Cluster)."""
        return tenant_events_key(tenant, self._prefix, cluster=self._cluster)

    # -- connections -------------------------------------------------------------------------
    def subscribe(self, tenant: str) -> Subscriber:
        """Register a connection; live events are queued to it from now on."""
        sub = Subscriber(tenant, self._queue_size)
        self._tenants.setdefault(tenant, set()).add(sub)
        self.count += 1
        metrics.OPEN_CONNECTIONS.inc()
        self._ticker.add(sub)
        return sub

    async def listen_to(self, tenant: str) -> None:
        """Return once the tenant's live events reach this process (call after `subscribe`)."""
        await self._listener.listen_to(tenant)

    def unsubscribe(self, sub: Subscriber) -> None:
        """Forget a connection (idempotent)."""
        subs = self._tenants.get(sub.tenant)
        if subs is None or sub not in subs:
            return
        subs.discard(sub)
        if not subs:
            del self._tenants[sub.tenant]
            self._listener.forget(sub.tenant)
        self.count -= 1
        metrics.OPEN_CONNECTIONS.dec()
        self._ticker.remove(sub)
        sub.task = None

    def subscribers(self) -> Iterator[Subscriber]:
        """Every open connection (callers must not await while iterating)."""
        for subs in self._tenants.values():
            yield from subs

    def _resume_all(self) -> None:
        log.info("clients_resume", connections=self.count)
        for subs in self._tenants.values():
            for sub in subs:
                sub.control(RESUME)

    def drain(self) -> None:
        """Shutdown: refuse new connections and tell every client to reconnect elsewhere."""
        self.draining = True
        final = reconnect_frame("shutdown")
        for subs in self._tenants.values():
            for sub in subs:
                sub.close(final)

    # -- background tasks --------------------------------------------------------------------
    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listener.run()),
            asyncio.create_task(self._ticker.run()),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def dispatch(self, channel: Any, data: Any) -> None:
        """Queue one channel message to its tenant's local connections."""
        channel = text(channel)
        tenant = tenant_from_key(channel, self._prefix)
        subs = self._tenants.get(tenant) if tenant is not None else None
        if not subs:
            return  # no client of this tenant here: skip even the decoding
        try:
            event = read_channel_message(data)
            frame = Frame.from_event(event)
        except ValueError:
            log.warning("undecodable_event", channel=channel)
            return
        if event.traceparent and tracing_enabled():
            self._traced_fan_out(event, frame, subs)
            return
        for sub in list(subs):
            sub.offer(frame)

    @staticmethod
    def _traced_fan_out(event: WireEvent, frame: Frame, subs: set[Subscriber]) -> None:
        """The fan-out as a span of the change's trace (API request or consumer batch)."""
        attributes = {"rita.event": event.event.value, "rita.event_id": event.id}
        with _tracer.start_as_current_span(
            "sse fan-out", context=context_from(event.traceparent), attributes=attributes
        ) as span:
            for sub in list(subs):
                sub.offer(frame)
            span.set_attribute("sse.connections", len(subs))
