"""`running` messages for one run: after every page, and a heartbeat while a page is slow.

Counts come from the run's row (cumulative), and one lock orders the sends, so consumers see
them never decreasing. Once the run is cancelled nothing more is sent.
"""

from __future__ import annotations

import asyncio
import time
import uuid

from contracts import TicketIngestionMessage
from itsm_sync.publisher import StatusPublisher


class Progress:
    """Tracks and publishes a run's counters."""

    def __init__(
        self,
        publisher: StatusPublisher,
        *,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        run_id: uuid.UUID,
        cancelled: asyncio.Event,
        interval: float,
    ) -> None:
        self._publisher = publisher
        self._ids = (tenant_id, connection_id, run_id)
        self._cancelled = cancelled
        self._interval = interval
        self._lock = asyncio.Lock()
        self._last = time.monotonic()
        self.processed = 0
        self.failed = 0
        self.total: int | None = None

    def message(self, status: str, **extra: object) -> TicketIngestionMessage:
        """A message about this run with the current counters."""
        tenant_id, connection_id, run_id = self._ids
        return TicketIngestionMessage.model_validate(
            {
                "tenant_id": tenant_id,
                "connection_id": connection_id,
                "ingestion_run_id": run_id,
                "status": status,
                "records_processed": self.processed,
                "records_failed": self.failed,
                # Tickets updated into the range during the import can outnumber the first
                # count; an estimate below what was imported would read as more than 100 %.
                "total_estimated": None if self.total is None else max(self.total, self.processed),
                **extra,
            }
        )

    async def report(self, processed: int, failed: int, total: int | None = None) -> None:
        """Raise the counters (never lower them) and publish a `running` message."""
        self.processed = max(self.processed, processed)
        self.failed = max(self.failed, failed)
        if total is not None:
            self.total = total
        await self._send()

    async def _send(self) -> None:
        async with self._lock:
            if self._cancelled.is_set():
                return
            await self._publisher.publish(self.message("running"))
            self._last = time.monotonic()

    async def heartbeat(self) -> None:
        """Run until cancelled: re-send the counters when nothing was sent for `interval`."""
        while True:
            await asyncio.sleep(max(0.05, self._interval - (time.monotonic() - self._last)))
            if time.monotonic() - self._last >= self._interval:
                await self._send()
