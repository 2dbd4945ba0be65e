"""A unit of work: one session, the events its changes produce, published after each commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from connections_api.database import ensure_live
from connections_api.state import AppState
from contracts import EventName
from events import OutgoingEvent
from servicekit import service_state
from store.public import connection_public, run_public
from store.tables import DataSourceConnection, IngestionRun


class Unit:
    """Collects events while the transaction runs; `commit()` commits, then publishes them."""

    def __init__(self, session: AsyncSession, state: AppState) -> None:
        self.session = session
        self._state = state
        self._events: list[OutgoingEvent] = []
        self._tenants_changed: set[UUID] = set()
        self._outbox_written = False

    def connection_changed(self, row: DataSourceConnection) -> None:
        """Publish this connection's new state after the commit."""
        self._tenants_changed.add(row.tenant_id)
        self._events.append(
            OutgoingEvent(row.tenant_id, EventName.DATA_SOURCE_UPDATE, connection_public(row))
        )

    def run_changed(self, row: IngestionRun) -> None:
        """Publish this run's new state after the commit."""
        self._events.append(
            OutgoingEvent(row.tenant_id, EventName.INGESTION_RUN_UPDATE, run_public(row))
        )

    def outbox_written(self) -> None:
        """Wake the relay after the commit instead of waiting for its next poll."""
        self._outbox_written = True

    async def commit(self) -> None:
        """Commit; then publish the collected events and wake the relay if needed."""
        await self.session.commit()
        # Before answering: this process's next list read is the committed one (the database's
        # change notice tells the other processes, a moment later).
        for tenant_id in self._tenants_changed:
            self._state.lister.forget(tenant_id)
        self._tenants_changed.clear()
        events, self._events = self._events, []
        await self._state.publish(events)
        if self._outbox_written:
            self._outbox_written = False
            self._state.outbox_wakeup.set()

    async def rollback(self) -> None:
        """Drop the transaction and its events."""
        self._events.clear()
        self._tenants_changed.clear()
        self._outbox_written = False
        await self.session.rollback()


async def read_session(state: AppState) -> AsyncIterator[AsyncSession]:
    """A session on autocommit connections for reads: no BEGIN/COMMIT round trips."""
    async with state.read_sessions() as session:
        await ensure_live(session)
        yield session


async def unit_of_work(state: AppState) -> AsyncIterator[Unit]:
    """Yield a unit; commit on success, roll back on error."""
    async with state.sessions() as session:
        await ensure_live(session)
        unit = Unit(session, state)
        try:
            yield unit
        except BaseException:
            await unit.rollback()
            raise
        await unit.commit()


async def app_state(request: Request) -> AppState:
    """The process's shared state."""
    return service_state(request, AppState)
