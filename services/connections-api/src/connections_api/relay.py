"""The outbox relay: delivers queued webhooks with backoff; safe with several API replicas."""

from __future__ import annotations

import asyncio
import contextlib
import random

import structlog

from connections_api.metrics import OUTBOX_DEPTH, WEBHOOK_DELIVERIES
from connections_api.state import AppState
from connections_api.uow import Unit
from connections_api.webhooks import DeliveryError
from contracts import ErrorCode, LastSyncStatus
from store import outbox
from store.runs import active_run_ids, end_run
from store.tables import WebhookOutbox

log = structlog.get_logger()


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """Exponential backoff with jitter after `attempts` failed attempts."""
    delay = min(cap, base * (2 ** max(0, attempts - 1)))
    return float(delay * random.uniform(0.8, 1.0))  # noqa: S311 - jitter, not cryptography


def _id(row: WebhookOutbox) -> int:
    if row.id is None:
        raise RuntimeError("outbox row without id")
    return row.id


class OutboxRelay:
    """Claims due rows (`FOR UPDATE SKIP LOCKED`), posts them, records each outcome."""

    def __init__(self, state: AppState) -> None:
        self._state = state
        self._settings = state.settings

    async def run_forever(self) -> None:
        """Deliver until cancelled; wake on a local commit or every poll interval."""
        while True:
            try:
                claimed = await self.deliver_due()
            except Exception as exc:  # keep relaying after a database hiccup
                log.error("outbox_relay_error", error_type=type(exc).__name__)
                claimed = 0
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
        if error.retryable and attempts < self._settings.outbox_max_attempts:
            delay = backoff_seconds(
                attempts, self._settings.outbox_backoff_base, self._settings.outbox_backoff_max
            )
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
