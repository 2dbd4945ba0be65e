"""The fetch-ahead queue of an import run: pages in order, batches behind a slow store, failures
surfaced (never a run waiting forever on a fetcher that died)."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from itsm_sync.connectors.base import TicketPage
from itsm_sync.connectors.errors import NotTheSystem
from itsm_sync.db.models import SyncRun
from itsm_sync.sync import PAGES_AHEAD, SyncJob


class Pages:
    """An importer of `count` empty pages whose page `fail_at` raises `error`."""

    def __init__(self, count: int, fail_at: int | None = None, error: Exception | None = None):
        self.count, self.fail_at, self.error = count, fail_at, error
        self.asked: list[str | None] = []

    async def total(self) -> int:
        return self.count

    async def page(self, cursor: str | None, size: int) -> TicketPage:
        self.asked.append(cursor)
        index = 0 if cursor is None else int(cursor)
        if index == self.fail_at and self.error is not None:
            raise self.error
        following = str(index + 1) if index + 1 < self.count else None
        return TicketPage([], 0, following)


def job() -> SyncJob:
    deps: Any = SimpleNamespace(
        settings=SimpleNamespace(itsm_sync_progress_interval=0.5, itsm_sync_page_size=100),
        publisher=None,
    )
    run = SyncRun(ingestion_run_id=uuid.uuid4(), tenant_id=uuid.uuid4(), connection_id=uuid.uuid4())
    return SyncJob(deps, run, asyncio.Event())


async def drain(importer: Pages) -> list[list[str | None]]:
    """Every batch's cursors until the last page, as the run's loop takes them."""
    sync = job()
    ahead: asyncio.Queue[TicketPage | Exception] = asyncio.Queue(PAGES_AHEAD)
    first = await importer.page(None, 100)
    fetcher = asyncio.create_task(sync._fetch_ahead(importer, first, ahead))
    batches: list[list[str | None]] = []
    try:
        while True:
            batch = await asyncio.wait_for(sync._next_batch(ahead), 10)
            batches.append([page.cursor for page in batch])
            if batch[-1].cursor is None:
                return batches
            await asyncio.sleep(0)  # a store that yields: the fetcher fills the queue meanwhile
    finally:
        fetcher.cancel()


async def test_pages_arrive_in_order_and_queue_into_batches() -> None:
    importer = Pages(12)
    batches = await drain(importer)
    cursors = [cursor for batch in batches for cursor in batch]
    assert cursors == [*(str(i) for i in range(1, 12)), None]
    assert all(len(batch) <= PAGES_AHEAD for batch in batches)
    assert len(batches) < 12  # some pages were stored together
    assert importer.asked == [None, *(str(i) for i in range(1, 12))]


@pytest.mark.parametrize("error", [NotTheSystem("bad page"), RuntimeError("a bug")])
async def test_a_failed_fetch_surfaces_after_the_pages_before_it(error: Exception) -> None:
    importer = Pages(12, fail_at=6, error=error)
    with pytest.raises(type(error)):
        await drain(importer)
    assert importer.asked[-1] == "6"
