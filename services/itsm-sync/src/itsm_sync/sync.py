"""One import run: page through `/search/jql`, upsert tickets, checkpoint, report.

Each page is stored together with the token of the next one (one transaction), so a process that
dies mid-run resumes at the page after the last stored one; tickets are upserted by Jira id, so
re-reading a page never duplicates them. The next page is fetched while the current one is
stored, which keeps the import limited by Jira's request rate rather than by our database.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import structlog

from contracts import (
    DataSourceType,
    ErrorCode,
    JiraItsmCredentials,
    UnsafeUrlError,
    check_outbound_url,
)
from itsm_sync.crypto import DecryptionError, credential_aad
from itsm_sync.db.models import SyncRun
from itsm_sync.deps import Deps
from itsm_sync.jira import JiraBadRequest, JiraClient, JiraError, SearchPage
from itsm_sync.metrics import PAGE_SECONDS, RUNS_FINISHED, TICKETS
from itsm_sync.progress import Progress
from itsm_sync.runstate import RunStatus
from itsm_sync.tickets import ticket_rows
from itsm_sync.verify import SERVICENOW_UNSUPPORTED

log = structlog.get_logger(__name__)

VERIFY_AGAIN = "No usable Jira credentials are stored for this connection: verify it again"


class RunFailed(Exception):
    """Ends the run as `failed` with a readable message and an optional code."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class SyncJob:
    """Carries one run from pending (or a checkpoint) to completed or failed."""

    def __init__(self, deps: Deps, run: SyncRun, cancelled: asyncio.Event) -> None:
        self._deps = deps
        self._run = run
        self._cancelled = cancelled
        self._progress = Progress(
            deps.publisher,
            tenant_id=run.tenant_id,
            connection_id=run.connection_id,
            run_id=run.ingestion_run_id,
            cancelled=cancelled,
            interval=deps.settings.itsm_sync_progress_interval,
        )

    async def execute(self) -> None:
        """Run to the end; a cancelled run stops silently at the next page boundary."""
        try:
            await self._execute()
        except RunFailed as exc:
            await self._fail(exc.message, exc.code)
        except JiraError as exc:
            await self._fail(exc.message, exc.code)

    async def _execute(self) -> None:
        run = self._run
        if run.connection_type != DataSourceType.JIRA_ITSM.value:
            unsupported = run.connection_type == DataSourceType.SERVICENOW.value
            raise RunFailed(
                SERVICENOW_UNSUPPORTED
                if unsupported
                else f"{run.connection_type} is not supported by this sync service"
            )
        client = await self._client()
        if not await self._deps.store.move_run(run.ingestion_run_id, RunStatus.RUNNING):
            log.info("sync_not_started", reason="run is no longer active")
            return
        self._progress.processed, self._progress.failed = run.records_processed, run.records_failed
        total = run.total_estimated
        if total is None:
            total = await client.approximate_count(run.jql or "")
            await self._deps.store.move_run(
                run.ingestion_run_id, RunStatus.RUNNING, total_estimated=total
            )
        heartbeat = asyncio.create_task(self._progress.heartbeat())
        try:
            await self._progress.report(run.records_processed, run.records_failed, total)
            await self._pages(client, run.next_page_token, resumed=run.pages_done > 0)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _client(self) -> JiraClient:
        run, deps = self._run, self._deps
        key = (run.tenant_id, run.connection_id, run.connection_type)
        stored = await deps.store.load_credentials(key)
        if stored is None:
            raise RunFailed(VERIFY_AGAIN, ErrorCode.AUTH_FAILED)
        try:
            plain = deps.cipher.decrypt(stored.ciphertext, credential_aad(*(str(k) for k in key)))
            credentials = JiraItsmCredentials.model_validate_json(plain)
        except (DecryptionError, ValueError):
            raise RunFailed(VERIFY_AGAIN, ErrorCode.AUTH_FAILED) from None
        try:
            check_outbound_url(stored.base_url, deps.settings.allowed_private_hosts)
        except UnsafeUrlError as exc:
            raise RunFailed(f"The Jira URL may not be called: {exc}") from None
        return JiraClient(
            deps.http, stored.base_url, credentials.email, credentials.api_token, deps.retry_policy
        )

    async def _fetch(self, client: JiraClient, token: str | None) -> SearchPage:
        with PAGE_SECONDS.time():
            return await client.search_page(
                self._run.jql or "", token, self._deps.settings.itsm_sync_page_size
            )

    async def _pages(self, client: JiraClient, token: str | None, *, resumed: bool) -> None:
        run_id = self._run.ingestion_run_id
        if resumed and token is None:
            # The last page was stored before the process stopped; only the end is missing.
            await self._complete()
            return
        try:
            page = await self._fetch(client, token)
        except JiraBadRequest:
            if not resumed:
                raise
            # The checkpoint's page token expired: read again from the start (upserts dedupe).
            log.info("sync_checkpoint_expired", ingestion_run_id=str(run_id))
            await self._deps.store.move_run(
                run_id,
                RunStatus.RUNNING,
                next_page_token=None,
                pages_done=0,
                records_processed=0,
                records_failed=0,
            )
            self._progress.processed = self._progress.failed = 0
            page = await self._fetch(client, None)
        while True:
            if self._cancelled.is_set():
                return
            more = not page.is_last and page.next_page_token is not None
            prefetch = (
                asyncio.create_task(self._fetch(client, page.next_page_token)) if more else None
            )
            try:
                stored = await self._store(page, more)
            except BaseException:
                if prefetch is not None:
                    prefetch.cancel()
                raise
            if stored is None or self._cancelled.is_set():
                if prefetch is not None:
                    prefetch.cancel()
                return
            await self._progress.report(stored.records_processed, stored.records_failed)
            if prefetch is None:
                await self._complete()
                return
            page = await prefetch

    async def _store(self, page: SearchPage, more: bool) -> SyncRun | None:
        run = self._run
        rows, failed = ticket_rows(
            page.issues, run.tenant_id, run.connection_id, run.ingestion_run_id
        )
        stored = await self._deps.store.save_page(
            run.ingestion_run_id,
            rows,
            next_page_token=page.next_page_token if more else None,
            failed=failed,
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

    async def _fail(self, message: str, code: str | None) -> None:
        run_id: uuid.UUID = self._run.ingestion_run_id
        moved = await self._deps.store.move_run(
            run_id, RunStatus.FAILED, error_code=code, error_message=message
        )
        if not moved or self._cancelled.is_set():
            return
        RUNS_FINISHED.labels(status="failed").inc()
        log.info("sync_failed", error=message, error_code=code)
        await self._deps.publisher.publish(
            self._progress.message(
                "failed",
                error_message=message,
                error_detail={"error_code": code} if code else None,
            )
        )
