"""Atomic append-and-publish of per-tenant events, and after-commit publishing that loses nothing.

One Lua script appends each event to its tenant's capped stream and publishes it on the tenant's
channel in the same step, so the stream entry id *is* the event id that live subscribers see: a
gateway can replay from the stream after any id it delivered without a gap or a duplicate. The
event's JSON is built here, in Python (`OutgoingEvent.data_json`); the script stores it and
publishes `<id> <event> <ts> <traceparent> <data>` (`events.wire`). A call carries a chunk of
events: one round trip per chunk, and a third of the client's CPU per event compared with one
call per event.

Redis Cluster (`cluster=True`): a tenant's key and channel carry the hash tag `{tenant_id}`, a
script call carries one tenant's events only (all its keys in one slot), tenants go out
concurrently, and the channel is sharded (`SPUBLISH`, read by the gateway with `SSUBSCRIBE`).

After a commit, call `publish_committed`: when Redis cannot be reached the change is committed
anyway, so the publisher remembers the tenants (bounded, in process) and, once Redis answers
again, appends and publishes a `resync` event on each of their streams (DESIGN.md §9): their
browsers refetch, and nothing is lost silently. Past `max_pending_tenants` it resyncs every
tenant that has a stream.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

import structlog
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

from contracts import (
    EVENT_STREAM_MAXLEN,
    EVENTS_KEY_PREFIX,
    EventName,
    tenant_events_key,
    tenant_from_key,
)
from events.pending import PendingResyncs
from events.wire import text
from observability import RetryLog, current_traceparent

log = structlog.get_logger(__name__)

EventsRedis = Redis | RedisCluster

# KEYS[i]: the i-th event's stream key, which is also its channel's name. ARGV: the publish
# command (PUBLISH, or SPUBLISH in a cluster), maxlen, ts (ms), then for each event its name,
# traceparent ('' for none) and data. Returns the stream ids in order.
_APPEND_AND_PUBLISH: Final = """
local ids = {}
for i = 1, #KEYS do
  local event, tp, data = ARGV[3 * i + 1], ARGV[3 * i + 2], ARGV[3 * i + 3]
  local id = redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[2], '*',
                        'event', event, 'ts', ARGV[3], 'tp', tp, 'data', data)
  if tp == '' then tp = '-' end
  redis.call(ARGV[1], KEYS[i], id .. ' ' .. event .. ' ' .. ARGV[3] .. ' ' .. tp .. ' ' .. data)
  ids[i] = id
end
return ids
"""
# Events per script call: bounds how long one call holds Redis (about a millisecond).
_CHUNK: Final = 200
# What a `resync` published after an outage says (the gateway's own resyncs say why they came).
RESYNC_AFTER_OUTAGE: Final = {"reason": "events were not published while Redis was unavailable"}


@dataclass(frozen=True, slots=True)
class OutgoingEvent:
    """One event for one tenant; `data` is the public row, `traceparent` the change's trace."""

    tenant_id: UUID | str
    event: EventName
    data: BaseModel | Mapping[str, Any]
    traceparent: str | None = None

    def data_json(self) -> bytes:
        """The row's JSON (UTF-8): the pydantic model's own serialisation, compact.

        A model goes through its own serializer (`__pydantic_serializer__`), whose bytes
        `model_dump_json` would only decode to a `str` that Redis's client encodes back.
        """
        if isinstance(self.data, BaseModel):
            return type(self.data).__pydantic_serializer__.to_json(self.data)
        return json.dumps(
            self.data, separators=(",", ":"), ensure_ascii=False, default=str
        ).encode()


class EventPublisher:
    """Publishes tenants' events: `publish_many` (raises) and `publish_committed` (never loses)."""

    def __init__(
        self,
        redis: EventsRedis,
        *,
        prefix: str = EVENTS_KEY_PREFIX,
        maxlen: int = EVENT_STREAM_MAXLEN,
        cluster: bool = False,
        max_pending_tenants: int = 10_000,
        recovery_max_wait: float = 1.0,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._maxlen = maxlen
        self._cluster = cluster
        self._publish_command = "SPUBLISH" if cluster else "PUBLISH"
        self._script = redis.register_script(_APPEND_AND_PUBLISH)
        self._pending = PendingResyncs(max_pending_tenants)
        self._recovery_max_wait = recovery_max_wait
        self._recovery: asyncio.Task[None] | None = None

    def key(self, tenant_id: UUID | str) -> str:
        """The tenant's stream key and channel name."""
        return tenant_events_key(tenant_id, self._prefix, cluster=self._cluster)

    # -- publishing ------------------------------------------------------------------------
    async def _call(
        self, keys: list[str], items: Sequence[OutgoingEvent], now_ms: int, trace: str
    ) -> list[str]:
        args: list[str | int | bytes] = [self._publish_command, self._maxlen, now_ms]
        for item in items:
            args += (item.event.value, item.traceparent or trace, item.data_json())
        return [text(r) for r in await self._script(keys=keys, args=args)]

    async def publish_many(self, items: Sequence[OutgoingEvent]) -> list[str]:
        """Publish events, in order per tenant; returns their ids. Raises if Redis fails."""
        now_ms = int(time.time() * 1000)
        # With tracing on, an event without its own traceparent joins the caller's trace (the
        # request, the consumer's batch), so the gateway's fan-out span continues it.
        trace = current_traceparent() or ""
        keys = [self.key(item.tenant_id) for item in items]
        if not self._cluster:
            ids: list[str] = []
            for start in range(0, len(items), _CHUNK):
                end = start + _CHUNK
                ids += await self._call(keys[start:end], items[start:end], now_ms, trace)
            return ids
        # A cluster runs a script on one slot: one tenant's events per call, tenants at once.
        by_key: dict[str, list[int]] = {}
        for index, key in enumerate(keys):
            by_key.setdefault(key, []).append(index)
        found: dict[int, str] = {}

        async def one_tenant(key: str, indexes: list[int]) -> None:
            for start in range(0, len(indexes), _CHUNK):
                part = indexes[start : start + _CHUNK]
                chunk = [items[i] for i in part]
                got = await self._call([key] * len(part), chunk, now_ms, trace)
                found.update(zip(part, got, strict=True))

        await asyncio.gather(*(one_tenant(key, idx) for key, idx in by_key.items()))
        return [found[i] for i in range(len(items))]

    async def publish_committed(self, items: Sequence[OutgoingEvent]) -> bool:
        """Publish events whose change is committed; never raises.

        True when they went out now. False when Redis failed: their tenants are remembered
        and get a `resync` event as soon as Redis answers again (a background task, started
        here; `aclose` stops it).
        """
        if not items:
            return True
        try:
            await self.publish_many(items)
        except Exception as exc:  # the change is committed: never undo it, never drop it silently
            self._pending.add(str(item.tenant_id) for item in items)
            log.error(
                "event_publish_failed",
                count=len(items),
                error_type=type(exc).__name__,
                pending_tenants=len(self._pending),
            )
            self._start_recovery()
            return False
        return True

    # -- recovery --------------------------------------------------------------------------
    @property
    def pending_tenants(self) -> list[str]:
        """Tenants owed a `resync` (for health and tests)."""
        return self._pending.snapshot()[0]

    @property
    def pending_overflows(self) -> int:
        """Failures past `max_pending_tenants` not yet answered by resyncing every stream."""
        return self._pending.overflows

    def _start_recovery(self) -> None:
        if self._recovery is None or self._recovery.done():
            self._recovery = asyncio.create_task(self._recover(), name="events-resync")

    async def _recover(self) -> None:
        waiting = RetryLog("events_resync_waiting")

        def before_sleep(state: RetryCallState) -> None:
            waiting(state, pending_tenants=len(self._pending))

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(Exception),
            wait=wait_exponential_jitter(multiplier=0.05, max=self._recovery_max_wait, jitter=0.05),
            before_sleep=before_sleep,
        )
        async for attempt in retrying:
            with attempt:
                while self._pending:
                    await self._resync_pending()

    async def _resync_pending(self) -> None:
        tenants, overflows = self._pending.snapshot()
        targets = list(tenants)
        if overflows:
            known = set(tenants)
            targets += [t for t in await self._tenants_with_streams() if t not in known]
        resyncs = [OutgoingEvent(t, EventName.RESYNC, RESYNC_AFTER_OUTAGE) for t in targets]
        await self.publish_many(resyncs)
        self._pending.resolved(tenants, overflows)
        log.info("events_resync_sent", tenants=len(targets), overflowed=bool(overflows))

    async def _tenants_with_streams(self) -> list[str]:
        found: list[str] = []
        async for key in self._redis.scan_iter(match=f"{self._prefix}*", _type="STREAM"):
            tenant = tenant_from_key(text(key), self._prefix)
            if tenant:
                found.append(tenant)
        return found

    async def aclose(self) -> None:
        """Stop the recovery task (tenants still pending are logged: a restart forgets them)."""
        if self._recovery is not None:
            self._recovery.cancel()
            await asyncio.gather(self._recovery, return_exceptions=True)
            self._recovery = None
        if self._pending:
            log.warning("events_resync_abandoned", pending_tenants=len(self._pending))
