"""The outbox relay: delivers queued webhooks with backoff; safe with several API replicas."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_exponential_jitter,
    wait_random_exponential,
)

from connections_api.metrics import OUTBOX_DEPTH, WEBHOOK_DELIVERIES
from connections_api.state import AppState
from connections_api.uow import Unit
from connections_api.webhooks import DeliveryError
from contracts import ErrorCode, LastSyncStatus
from observability import RetryLog
from store import outbox
from store.runs import active_run_ids, end_run
from store.tables import WebhookOutbox

log = structlog.get_logger()


class DeliveryRetries:
    """When a failed delivery is tried again, and when it is given up: tenacity's strategies.

    Not a retry loop: the attempt count lives on the outbox row, so a retry survives a restart
    and may be made by another replica. Each decision builds the `RetryCallState` a tenacity
    loop would hold after that many failed attempts and asks the same wait and stop objects.
    """

    def __init__(self, *, base: float, cap: float, max_attempts: int) -> None:
        self._policy = Retrying(
            # step = min(cap, base * 2^(attempts-1)); the delay is 80 % of it plus up to 20 % at
            # random (also at the cap), so rows that failed together do not come back together.
            wait=wait_exponential(multiplier=0.8 * base, max=0.8 * cap)
            + wait_random_exponential(multiplier=0.2 * base, max=0.2 * cap),
            stop=stop_after_attempt(max_attempts),
        )

    def _after(self, attempts: int) -> RetryCallState:
        state = RetryCallState(self._policy, fn=None, args=(), kwargs={})
        state.attempt_number = attempts
        return state

    def gives_up(self, attempts: int) -> bool:
        """Whether `attempts` failed attempts are the last allowed."""
        return bool(self._policy.stop(self._after(attempts)))

    def delay(self, attempts: int) -> float:
        """Seconds to wait after `attempts` failed attempts."""
        return float(self._policy.wait(self._after(attempts)))


def _id(row: WebhookOutbox) -> int:
    if row.id is None:
        raise RuntimeError("outbox row without id")
    return row.id


class OutboxRelay:
    """Claims due rows (`FOR UPDATE SKIP LOCKED`), posts them, records each outcome."""

    def __init__(self, state: AppState) -> None:
        self._state = state
        self._settings = settings = state.settings
        self._retries = DeliveryRetries(
            base=settings.outbox_backoff_base,
            cap=settings.outbox_backoff_max,
            max_attempts=settings.outbox_max_attempts,
        )

    async def run_forever(self) -> None:
        """Deliver until cancelled; wake on a local commit or every poll interval."""
        poll = self._settings.outbox_poll_interval
        batch = AsyncRetrying(
            # A failed batch (the database gone, say) must not end the relay; cancellation, a
            # BaseException, still does. Its transaction rolled back, so its rows are claimed
            # again (one already posted is sent again with the same webhook id).
            retry=retry_if_exception_type(Exception),
            # First retry after about one poll interval, then doubling up to ten: a database
            # that is down is not hammered, one that is back is used again within 10 polls.
            wait=wait_exponential_jitter(multiplier=poll, max=10 * poll, jitter=poll),
            before_sleep=RetryLog("outbox_relay_error", level=logging.ERROR),
        )
        while True:
            claimed: int = await batch(self.deliver_due)
            if claimed >= self._settings.outbox_batch_size:
                continue
            wakeup = self._state.outbox_wakeup
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), self._settings.outbox_poll_interval)
            wakeup.clear()

    async def _post(self, row: WebhookOutbox) -> DeliveryError | None:
        body = self._state.sender.encode(row.payload)
        try:
            await self._state.sender.post(row.webhook_id, body)
        except DeliveryError as exc:
            return exc
        return None

    async def deliver_due(self) -> int:
        """One batch; returns how many rows it claimed."""
        async with self._state.sessions() as session:
            unit = Unit(session, self._state)
            rows = await outbox.claim_due(session, limit=self._settings.outbox_batch_size)
            if not rows:
                OUTBOX_DEPTH.set(await outbox.pending_count(session))
                await session.commit()
                return 0
            run_ids = [r.ingestion_run_id for r in rows if r.ingestion_run_id is not None]
            live_runs = await active_run_ids(session, run_ids)
            to_send: list[WebhookOutbox] = []
            for row in rows:
                if row.action != "sync_tickets" or row.ingestion_run_id in live_runs:
                    to_send.append(row)
                    continue
                # The run ended (cancelled, timed out) before its start could be delivered.
                await outbox.mark_failed(session, _id(row), row.attempts, "run ended first")
                WEBHOOK_DELIVERIES.labels(row.action, "skipped").inc()
            results = await asyncio.gather(*(self._post(row) for row in to_send))
            for row, error in zip(to_send, results, strict=True):
                await self._record(unit, row, error)
            await unit.commit()
            return len(rows)

    async def _record(self, unit: Unit, row: WebhookOutbox, error: DeliveryError | None) -> None:
        row_id = _id(row)
        attempts = row.attempts + 1
        context = {"action": row.action, "webhook_id": row.webhook_id, "attempts": attempts}
        if error is None:
            await outbox.mark_delivered(unit.session, row_id, attempts)
            WEBHOOK_DELIVERIES.labels(row.action, "delivered").inc()
            log.info("webhook_delivered", **context)
            return
        if error.retryable and not self._retries.gives_up(attempts):
            delay = self._retries.delay(attempts)
            await outbox.schedule_retry(unit.session, row_id, attempts, delay, error.reason)
            WEBHOOK_DELIVERIES.labels(row.action, "retry").inc()
            log.info(
                "webhook_retry_scheduled", reason=error.reason, delay=round(delay, 2), **context
            )
            return
        await outbox.mark_failed(unit.session, row_id, attempts, error.reason)
        WEBHOOK_DELIVERIES.labels(row.action, "failed").inc()
        log.warning("webhook_gave_up", reason=error.reason, **context)
        if row.action == "sync_tickets" and row.ingestion_run_id is not None:
            message = f"Could not reach the sync service after {attempts} attempts"
            changed = await end_run(
                unit.session,
                row.tenant_id,
                row.ingestion_run_id,
                LastSyncStatus.FAILED,
                error_message=message,
                error_detail={
                    "error_code": ErrorCode.UNREACHABLE.value,
                    "stage": "webhook",
                },
                error_code=ErrorCode.UNREACHABLE,
            )
            if changed is not None:
                run, connection = changed
                unit.run_changed(run)
                if connection is not None:
                    unit.connection_changed(connection)
