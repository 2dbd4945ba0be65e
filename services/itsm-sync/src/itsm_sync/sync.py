"""One import run, for any connector: page, upsert tickets, checkpoint, report.

Each page is stored together with the cursor of the next one (one transaction), so a process that
dies mid-run resumes at the page after the last stored one; tickets are upserted by their id in
the source system, and counted once per run however often a page is read again. Pages are fetched
ahead while earlier ones are stored, and pages that queue up behind a slow store go into one
transaction, which keeps the import limited by the system's request rate rather than by our
database. Nothing here knows a system by name (`connectors/`).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta

import structlog

from contracts import ErrorCode
from itsm_sync.connectors import connector_for
from itsm_sync.connectors.base import (
    Connector,
    Importer,
    Refused,
    StoredConnection,
    TicketPage,
    check_site,
)
from itsm_sync.connectors.errors import ConnectorError, CursorExpired
from itsm_sync.crypto import DecryptionError, credential_aad
from itsm_sync.db.models import SyncRun
from itsm_sync.deps import Deps
from itsm_sync.metrics import PAGE_SECONDS, RUNS_FINISHED, TICKETS
from itsm_sync.progress import Progress
from itsm_sync.runstate import RunStatus

log = structlog.get_logger(__name__)

# A ticket can be read twice in one run only if it changed after the run started (it moved
# forward in the import order) or if the run read again from the start. This margin covers
# clocks that disagree between us and the ITSM system.
CLOCK_MARGIN = timedelta(minutes=10)
# Pages fetched ahead of the one being stored (and at most stored together in one transaction).
PAGES_AHEAD = 4


def verify_again(name: str) -> str:
    """The text of a run without usable stored credentials."""
    return f"No usable {name} credentials are stored for this connection: verify it again"


class RunFailed(Exception):
    """Ends the run as `failed` with a readable message and an optional code."""

    def __init__(self, message: str, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class SyncJob:
    """Carries one run from pending (or a checkpoint) to completed or failed."""

    def __init__(self, deps: Deps, run: SyncRun, cancelled: asyncio.Event) -> None:
        self._deps = deps
        self._run = run
        self._cancelled = cancelled
        self._read_again = False  # the run restarted from the start: every ticket may repeat
        self._progress = Progress(
            deps.publisher,
            tenant_id=run.tenant_id,
            connection_id=run.connection_id,
            run_id=run.ingestion_run_id,
            cancelled=cancelled,
            interval=deps.settings.itsm_sync_progress_interval,
        )

    async def execute(self, refused: Refused | None = None) -> None:
        """Run to the end; a cancelled run stops silently at the next page boundary.

        `refused`: the webhook could not be turned into a query (e.g. a bad import scope); the
        run fails with that reason.
        """
        try:
            if refused is not None:
                raise refused
            await self._execute()
        except (RunFailed, Refused, ConnectorError) as exc:
            await self._fail(exc.message, exc.code)

    async def _execute(self) -> None:
        run = self._run
        connector = connector_for(run.connection_type)
        if connector is None:
            raise RunFailed(f"{run.connection_type} is not supported by this sync service")
        if run.query is None:
            raise RunFailed("The run has no import query; start the import again")
        importer = await self._importer(connector)
        if not await self._deps.store.move_run(run.ingestion_run_id, RunStatus.RUNNING):
            log.info("sync_not_started", reason="run is no longer active")
            return
        self._progress.processed, self._progress.failed = run.records_processed, run.records_failed
        total = run.total_estimated
        if total is None:
            total = await importer.total()
            await self._deps.store.move_run(
                run.ingestion_run_id, RunStatus.RUNNING, total_estimated=total
            )
        heartbeat = asyncio.create_task(self._progress.heartbeat())
        try:
            await self._progress.report(run.records_processed, run.records_failed, total)
            await self._pages(importer, run.cursor, resumed=run.pages_done > 0)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _importer(self, connector: Connector) -> Importer:
        run, deps = self._run, self._deps
        key = (run.tenant_id, run.connection_id, run.connection_type)
        stored = await deps.store.load_credentials(key)
        if stored is None:
            raise RunFailed(verify_again(connector.name), ErrorCode.AUTH_FAILED)
        try:
            plain = deps.cipher.decrypt(stored.ciphertext, credential_aad(*(str(k) for k in key)))
        except DecryptionError:
            raise RunFailed(verify_again(connector.name), ErrorCode.AUTH_FAILED) from None
        # The site is the one stored at verification: the secret never goes to a URL that a
        # later webhook names.
        site = deps.site()
        await check_site(stored.base_url, site, connector.name)
        connection = StoredConnection(stored.base_url, dict(stored.settings), plain)
        try:
            return connector.importer(connection, run.query or "", site)
        except Refused as exc:
            raise RunFailed(verify_again(connector.name), ErrorCode.AUTH_FAILED) from exc

    async def _fetch(self, importer: Importer, cursor: str | None) -> TicketPage:
        with PAGE_SECONDS.time():
            return await importer.page(cursor, self._deps.settings.itsm_sync_page_size)

    async def _pages(self, importer: Importer, cursor: str | None, *, resumed: bool) -> None:
        run_id = self._run.ingestion_run_id
        if resumed and cursor is None:
            # The last page was stored before the process stopped; only the end is missing.
            await self._complete()
            return
        try:
            page = await self._fetch(importer, cursor)
        except CursorExpired:
            if not resumed:
                raise
            # The checkpoint expired: read again from the start. Tickets already stored by this
            # run are upserted and not counted again, so the counters stay true.
            log.info("sync_checkpoint_expired", ingestion_run_id=str(run_id))
            await self._deps.store.move_run(run_id, RunStatus.RUNNING, cursor=None, pages_done=0)
            self._read_again = True
            page = await self._fetch(importer, None)
        ahead: asyncio.Queue[TicketPage | Exception] = asyncio.Queue(PAGES_AHEAD)
        fetcher = asyncio.create_task(self._fetch_ahead(importer, page, ahead))
        try:
            while True:
                batch = await self._next_batch(ahead)
                if self._cancelled.is_set():
                    return
                stored = await self._store(batch)
                if stored is None or self._cancelled.is_set():
                    return
                await self._progress.report(stored.records_processed, stored.records_failed)
                if batch[-1].cursor is None:
                    await self._complete()
                    return
        finally:
            fetcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fetcher

    async def _fetch_ahead(
        self,
        importer: Importer,
        page: TicketPage,
        ahead: asyncio.Queue[TicketPage | Exception],
    ) -> None:
        """Fetch the pages after `page` in order, while earlier ones are being stored."""
        await ahead.put(page)
        while page.cursor is not None:
            try:
                page = await self._fetch(importer, page.cursor)
            except Exception as exc:  # any failure: the storing side raises it, in order
                await ahead.put(exc)
                return
            await ahead.put(page)

    @staticmethod
    async def _next_batch(ahead: asyncio.Queue[TicketPage | Exception]) -> list[TicketPage]:
        """The next page, and every page already fetched behind it (one transaction for all).

        When storing is slower than the system answers (a busy database), pages queue up here
        and are stored together, so the commit and the checkpoint cost once per batch.
        """
        batch: list[TicketPage] = []
        while True:
            item = ahead.get_nowait() if batch else await ahead.get()
            if isinstance(item, Exception):
                if batch:
                    # Store what arrived before the failure first; it surfaces on the next call
                    # (the fetcher stopped after it, so the queue has room and nothing behind).
                    ahead.put_nowait(item)
                    return batch
                raise item
            batch.append(item)
            if item.cursor is None or ahead.empty() or len(batch) >= PAGES_AHEAD:
                return batch

    async def _store(self, batch: list[TicketPage]) -> SyncRun | None:
        run = self._run
        tickets = {t["external_id"]: t for page in batch for t in page.tickets}
        rows = [
            {
                **ticket,
                "tenant_id": run.tenant_id,
                "connection_id": run.connection_id,
                "source_type": run.connection_type,
                "ingestion_run_id": run.ingestion_run_id,
            }
            for ticket in tickets.values()
        ]
        since = run.created_at - CLOCK_MARGIN
        recheck = [
            ticket["external_id"]
            for ticket in tickets.values()
            if self._read_again
            or ticket["source_updated"] is None
            or ticket["source_updated"] >= since
        ]
        stored = await self._deps.store.save_page(
            run.ingestion_run_id,
            rows,
            cursor=batch[-1].cursor,
            failed=sum(page.failed for page in batch),
            recheck=recheck,
            pages=len(batch),
        )
        if stored is not None:
            TICKETS.inc(len(rows))
        return stored

    async def _complete(self) -> None:
        if not await self._deps.store.move_run(self._run.ingestion_run_id, RunStatus.COMPLETED):
            return
        RUNS_FINISHED.labels(status="completed").inc()
        fresh = await self._deps.store.get_run(self._run.ingestion_run_id)
        if fresh is not None:
            self._progress.processed, self._progress.failed = (
                fresh.records_processed,
                fresh.records_failed,
            )
        log.info("sync_completed", records_processed=self._progress.processed)
        await self._deps.publisher.publish(self._progress.message("completed"))

    async def _fail(self, message: str, code: ErrorCode | None) -> None:
        run_id: uuid.UUID = self._run.ingestion_run_id
        moved = await self._deps.store.move_run(
            run_id, RunStatus.FAILED, error_code=code.value if code else None, error_message=message
        )
        if not moved or self._cancelled.is_set():
            return
        RUNS_FINISHED.labels(status="failed").inc()
        log.info("sync_failed", error=message, error_code=code)
        await self._deps.publisher.publish(
            self._progress.message(
                "failed",
                error_message=message,
                error_detail={"error_code": code.value} if code else None,
            )
        )
