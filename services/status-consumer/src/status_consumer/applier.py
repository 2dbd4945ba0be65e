"""Flushes one batch: apply in one transaction, commit, publish the events, then acknowledge.

PostgreSQL or Redis unreachable → the same step is retried with backoff until it returns (the
messages stay unacknowledged meanwhile, so nothing is lost). Any other failure of a batch → its
messages are retried one per transaction, so a single bad message fails alone: one that can never
apply (the database refuses its data) is dead-lettered at once, any other is requeued with an
attempt count or, at the last attempt, dead-lettered. A message the store sets aside as naming
the wrong kind of connection is dead-lettered with its reason once the batch is committed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential_jitter

from contracts import EventName
from events import EventPublisher, OutgoingEvent
from observability import RetryLog
from status_consumer.deadletter import DeadLetters
from status_consumer.faults import can_never_apply, is_outage
from status_consumer.group_commit import DeliveryAcks, Item, ShuttingDown
from status_consumer.metrics import (
    BATCH_SECONDS,
    BATCH_SIZE,
    EVENTS,
    MESSAGE_AGE,
    MESSAGES,
    RETRIES,
    TENANT_MISMATCHES,
)
from status_consumer.tracing import batch_span, row_traceparents
from store import BatchResult, apply_status_batch

log = structlog.get_logger(__name__)
T = TypeVar("T")


class BatchApplier:
    """The `flush` of the group committer."""

    def __init__(
        self,
        engine: AsyncEngine,
        publisher: EventPublisher,
        acks: DeliveryAcks,
        dead: DeadLetters,
        *,
        max_backoff: float,
        stopping: Callable[[], bool],
    ) -> None:
        self._engine = engine
        self._publisher = publisher
        self._acks = acks
        self._dead = dead
        self._max_backoff = max_backoff
        self._stopping = stopping

    async def _until_up(self, dependency: str, step: Callable[[], Awaitable[T]]) -> T:
        unavailable = RetryLog("dependency_unavailable", dependency=dependency)

        def before_sleep(state: RetryCallState) -> None:
            RETRIES.labels(dependency=dependency).inc()
            unavailable(state)

        def stop(_state: RetryCallState) -> bool:
            return self._stopping()

        retrying = AsyncRetrying(
            retry=retry_if_exception(is_outage),
            wait=wait_exponential_jitter(multiplier=0.05, max=self._max_backoff, jitter=0.05),
            stop=stop,
            before_sleep=before_sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await step()
        raise AssertionError("unreachable")  # pragma: no cover

    async def _commit(self, items: Sequence[Item]) -> BatchResult:
        async def step() -> BatchResult:
            async with self._engine.begin() as conn:
                return await apply_status_batch(
                    conn,
                    [i.message for i in items],
                    republish=[bool(i.delivery.redelivered) for i in items],
                )

        return await self._until_up("postgresql", step)

    async def flush(self, items: list[Item]) -> None:
        """Commit `items`, publish their events, acknowledge them (one span with tracing on)."""
        with batch_span(items):
            await self._flush(items)

    async def _flush(self, items: list[Item]) -> None:
        """Commit `items`, publish their events, acknowledge them; raise `ShuttingDown` to leave
        them unacknowledged."""
        started = time.perf_counter()
        try:
            result = await self._commit(items)
        except Exception as exc:
            if is_outage(exc):  # only when stopping: leave everything unacknowledged
                raise ShuttingDown("stopped during an outage") from exc
            if len(items) > 1:
                log.warning("batch_failed_isolating", size=len(items), error=type(exc).__name__)
                for item in items:
                    await self._flush([item])
                return
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
            if can_never_apply(exc):
                MESSAGES.labels(type=items[0].message.type, outcome="dead_lettered").inc()
                await self._dead.dead_letter(items[0].delivery, reason, "unappliable")
            else:
                await self._dead.failed(items[0].delivery, reason)
            return
        committed = datetime.now(UTC)
        BATCH_SECONDS.observe(time.perf_counter() - started)
        BATCH_SIZE.observe(len(items))
        await self._publish(result, row_traceparents(items, result))
        refused = {r.index for r in result.rejected}
        await self._acks.committed([i.delivery for n, i in enumerate(items) if n not in refused])
        for rejected in result.rejected:
            item = items[rejected.index]
            MESSAGES.labels(type=item.message.type, outcome="dead_lettered").inc()
            await self._dead.dead_letter(item.delivery, rejected.reason, "wrong_connection_kind")
        self._record([i for n, i in enumerate(items) if n not in refused], result, committed)

    async def _publish(self, result: BatchResult, traces: dict[UUID, str]) -> None:
        # The contracts' models: serialized as the API serializes the same rows. Each event
        # carries the trace of the message that changed its row (empty with tracing off).
        events = [
            OutgoingEvent(r.tenant_id, EventName.INGESTION_RUN_UPDATE, r, traces.get(r.id))
            for r in result.runs
        ]
        events += [
            OutgoingEvent(c.tenant_id, EventName.DATA_SOURCE_UPDATE, c, traces.get(c.id))
            for c in result.connections
        ]
        if not events:
            return
        try:
            await self._until_up("redis", lambda: self._publisher.publish_many(events))
        except Exception as exc:
            if is_outage(exc):
                raise ShuttingDown("stopped while Redis was unreachable") from exc
            # The state is committed; a broken event must not block the queue.
            log.error("events_publish_failed", error=type(exc).__name__, count=len(events))
            return
        EVENTS.labels(event=EventName.INGESTION_RUN_UPDATE.value).inc(len(result.runs))
        EVENTS.labels(event=EventName.DATA_SOURCE_UPDATE.value).inc(len(result.connections))

    @staticmethod
    def _record(items: Sequence[Item], result: BatchResult, committed: datetime) -> None:
        for kind, count in Counter(i.message.type for i in items).items():
            MESSAGES.labels(type=kind, outcome="committed").inc(count)
        for item in items:
            ts = item.message.timestamp
            if ts is not None:
                ts = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
                MESSAGE_AGE.observe(max((committed - ts).total_seconds(), 0.0))
        if result.duplicates:
            MESSAGES.labels(type="any", outcome="duplicate").inc(result.duplicates)
        for stale in result.stale_verifications:
            MESSAGES.labels(type="verification", outcome="stale").inc()
            log.info(
                "verification_result_ignored",
                reason="another verification is in flight",
                connection_id=str(stale.connection_id),
                tenant_id=str(stale.tenant_id),
                verification_id=str(stale.verification_id),
            )
        for mm in result.mismatches:
            TENANT_MISMATCHES.inc()
            log.warning(
                "security_tenant_mismatch",
                kind=mm.kind,
                row_id=str(mm.row_id),
                message_tenant_id=str(mm.message_tenant_id),
                row_tenant_id=str(mm.row_tenant_id),
            )
