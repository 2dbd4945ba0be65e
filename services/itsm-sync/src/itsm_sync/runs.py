"""Background work: tracked tasks, runs bounded per tenant, cancel, resume and drain.

Every task started for a webhook is kept in a set until it ends, so shutdown can wait for it
(verifications are short and should finish) or cancel it (imports stop mid-page; their
checkpoint lets the next process resume them).
"""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from collections import defaultdict
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

import structlog

from contracts import (
    CancelIngestionWebhook,
    SyncTicketsWebhook,
    VerifyCredentialsWebhook,
    WebhookPayload,
)
from itsm_sync.connectors import connector_for
from itsm_sync.connectors.base import Refused
from itsm_sync.db.models import SyncRun
from itsm_sync.deps import Deps
from itsm_sync.metrics import RUNS_ACTIVE, RUNS_FINISHED
from itsm_sync.runstate import ACTIVE, TERMINAL, RunStatus
from itsm_sync.sync import SyncJob
from itsm_sync.verify import check_credentials, internal_failure

log = structlog.get_logger(__name__)


class RunManager:
    """Starts, bounds, cancels and drains the work the webhooks ask for."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runs: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._cancels: dict[uuid.UUID, asyncio.Event] = {}
        limit = deps.settings.itsm_sync_max_runs_per_tenant
        self._slots: defaultdict[uuid.UUID, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(limit)
        )

    @property
    def active_runs(self) -> int:
        """Runs started in this process and not yet ended."""
        return len(self._runs)

    def _spawn(
        self, coro: Coroutine[Any, Any, Any], name: str, **log_context: str
    ) -> asyncio.Task[Any]:
        # The task logs with its own bound ids, without touching the caller's context.
        context = contextvars.copy_context()
        context.run(structlog.contextvars.bind_contextvars, **log_context)
        task = asyncio.create_task(coro, name=name, context=context)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background_task_failed", task=task.get_name(), exc_info=task.exception())

    def accept(self, hook: WebhookPayload) -> None:
        """Handle a verified webhook in the background."""
        ids = {"tenant_id": str(hook.tenant_id), "connection_id": str(hook.connection_id)}
        if isinstance(hook, VerifyCredentialsWebhook):
            self._spawn(self._verify(hook), f"verify:{hook.connection_id}", **ids)
        elif isinstance(hook, SyncTicketsWebhook):
            run = str(hook.ingestion_run_id)
            self._spawn(self._start_sync(hook), f"sync:{run}", ingestion_run_id=run, **ids)
        elif isinstance(hook, CancelIngestionWebhook):
            run = str(hook.ingestion_run_id)
            self._spawn(self.cancel(hook), f"cancel:{run}", ingestion_run_id=run, **ids)

    async def _verify(self, hook: VerifyCredentialsWebhook) -> None:
        try:
            message = await check_credentials(hook, self._deps)
        except Exception as exc:  # whatever broke, Rita must get an answer
            # Without one the connection stays "verifying" in Rita. Only the type is logged:
            # a driver's message may quote statement parameters.
            log.error("verification_internal_error", error_type=type(exc).__name__)
            message = internal_failure(hook)
        await self._deps.publisher.publish(message)

    async def _start_sync(self, hook: SyncTicketsWebhook) -> None:
        # The query (time range, import scope) is fixed now, so a resumed run reads the same set.
        connector = connector_for(hook.connection_type.value)
        query: str | None = None
        refused: Refused | None = None
        if connector is not None:
            try:
                query = connector.import_query(hook.settings, datetime.now(UTC))
            except Refused as exc:
                refused = exc
        candidate = SyncRun(
            ingestion_run_id=hook.ingestion_run_id,
            tenant_id=hook.tenant_id,
            connection_id=hook.connection_id,
            connection_type=hook.connection_type.value,
            status=RunStatus.PENDING.value,
            time_range_days=hook.settings.time_range_days,
            query=query,
            pages_done=0,
            records_processed=0,
            records_failed=0,
        )
        run = await self._deps.store.claim_run(candidate)
        if RunStatus(run.status) in TERMINAL:
            log.info("sync_ignored", reason=f"run already {run.status}")
            return
        self.launch(run, refused)

    def launch(self, run: SyncRun, refused: Refused | None = None) -> None:
        """Start (or resume) a stored run unless this process already runs it."""
        if run.ingestion_run_id in self._runs:
            log.info("sync_ignored", reason="run already in progress")
            return
        cancelled = self._cancels.setdefault(run.ingestion_run_id, asyncio.Event())
        task = self._spawn(
            self._bounded(run, cancelled, refused),
            f"run:{run.ingestion_run_id}",
            tenant_id=str(run.tenant_id),
            connection_id=str(run.connection_id),
            ingestion_run_id=str(run.ingestion_run_id),
        )
        self._runs[run.ingestion_run_id] = task

    async def _bounded(
        self, run: SyncRun, cancelled: asyncio.Event, refused: Refused | None
    ) -> None:
        try:
            async with self._slots[run.tenant_id]:
                if cancelled.is_set():
                    return
                RUNS_ACTIVE.inc()
                try:
                    await SyncJob(self._deps, run, cancelled).execute(refused)
                finally:
                    RUNS_ACTIVE.dec()
        finally:
            self._runs.pop(run.ingestion_run_id, None)
            self._cancels.pop(run.ingestion_run_id, None)

    async def cancel(self, hook: CancelIngestionWebhook) -> None:
        """Stop a run at its next page boundary; it publishes nothing more."""
        run_id = hook.ingestion_run_id
        event = self._cancels.get(run_id)
        if event is not None:
            event.set()
        if await self._deps.store.move_run(run_id, RunStatus.CANCELLED):
            RUNS_FINISHED.labels(status="cancelled").inc()
            log.info("sync_cancelled", ingestion_run_id=str(run_id))
            return
        # Unknown run (the cancel overtook the sync webhook): a tombstone keeps it from starting.
        stored = await self._deps.store.claim_run(
            SyncRun(
                ingestion_run_id=run_id,
                tenant_id=hook.tenant_id,
                connection_id=hook.connection_id,
                connection_type=hook.connection_type.value,
                status=RunStatus.CANCELLED.value,
                time_range_days=0,
                pages_done=0,
                records_processed=0,
                records_failed=0,
            )
        )
        # The sync webhook claimed the run between our update and our insert: cancel it now.
        if RunStatus(stored.status) in ACTIVE:
            await self.cancel(hook)

    async def resume(self) -> int:
        """Start the runs a previous process left active; returns how many."""
        runs = await self._deps.store.resumable_runs()
        for run in runs:
            log.info(
                "sync_resumed",
                ingestion_run_id=str(run.ingestion_run_id),
                pages_done=run.pages_done,
            )
            self.launch(run)
        return len(runs)

    async def drain(self, grace: float) -> None:
        """Let short work finish within `grace` seconds; cancel imports (they resume later)."""
        for task in list(self._runs.values()):
            task.cancel()
        pending = set(self._tasks)
        if pending:
            _, still = await asyncio.wait(pending, timeout=grace)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still, timeout=grace)
