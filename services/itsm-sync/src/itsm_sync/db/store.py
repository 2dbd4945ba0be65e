"""Every query itsm-sync runs; each public method is one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from itsm_sync.db.models import Credential, SeenWebhook, SyncRun, Ticket
from itsm_sync.runstate import ACTIVE, RunStatus, sources_of


def _now() -> datetime:
    return datetime.now(UTC)


class Store:
    """Credentials, tickets, runs and seen webhook ids."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """The session factory (for tests and one-off inspection)."""
        return self._sessions

    async def ping(self) -> None:
        """Raise if the database does not answer."""
        async with self._sessions() as session:
            await session.execute(text("SELECT 1"))

    async def remember_webhook(self, webhook_id: str, action: str) -> bool:
        """Record a `webhook-id`; False if it was seen before (a redelivery)."""
        statement = (
            insert(SeenWebhook)
            .values(webhook_id=webhook_id, action=action)
            .on_conflict_do_nothing(index_elements=[SeenWebhook.webhook_id])
            .returning(SeenWebhook.webhook_id)
        )
        async with self._sessions.begin() as session:
            return (await session.execute(statement)).scalar_one_or_none() is not None

    async def save_credentials(
        self,
        key: tuple[uuid.UUID, uuid.UUID, str],
        base_url: str,
        settings: dict[str, Any],
        ciphertext: bytes,
    ) -> None:
        """Insert or replace the credentials of one connection."""
        tenant_id, connection_id, connection_type = key
        statement = insert(Credential).values(
            tenant_id=tenant_id,
            connection_id=connection_id,
            connection_type=connection_type,
            base_url=base_url,
            settings=settings,
            ciphertext=ciphertext,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[
                Credential.tenant_id,
                Credential.connection_id,
                Credential.connection_type,
            ],
            set_={
                "base_url": statement.excluded.base_url,
                "settings": statement.excluded.settings,
                "ciphertext": statement.excluded.ciphertext,
                "updated_at": func.now(),
            },
        )
        async with self._sessions.begin() as session:
            await session.execute(statement)

    async def load_credentials(self, key: tuple[uuid.UUID, uuid.UUID, str]) -> Credential | None:
        """The stored credentials row, or None."""
        async with self._sessions() as session:
            return await session.get(Credential, key)

    async def claim_run(self, run: SyncRun) -> SyncRun:
        """Insert the run as given unless it exists; return the stored row either way."""
        values = {
            c.key: getattr(run, c.key)
            for c in SyncRun.__table__.columns
            if getattr(run, c.key) is not None
        }
        statement = (
            insert(SyncRun)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[SyncRun.ingestion_run_id])
        )
        async with self._sessions.begin() as session:
            await session.execute(statement)
            stored = await session.get(SyncRun, run.ingestion_run_id, populate_existing=True)
            assert stored is not None  # noqa: S101 - just inserted or already there
            return stored

    async def get_run(self, run_id: uuid.UUID) -> SyncRun | None:
        """One run by id."""
        async with self._sessions() as session:
            return await session.get(SyncRun, run_id)

    async def move_run(self, run_id: uuid.UUID, target: RunStatus, **fields: Any) -> bool:
        """Apply a transition if the current status allows it; False if it did not."""
        values: dict[str, Any] = {"status": target.value, "updated_at": _now(), **fields}
        if target not in ACTIVE:
            values["finished_at"] = _now()
        statement = (
            update(SyncRun)
            .where(SyncRun.ingestion_run_id == run_id)
            .where(SyncRun.status.in_([s.value for s in sources_of(target)]))
            .values(**values)
            .returning(SyncRun.ingestion_run_id)
        )
        async with self._sessions.begin() as session:
            return (await session.execute(statement)).scalar_one_or_none() is not None

    async def save_page(
        self,
        run_id: uuid.UUID,
        tickets: Sequence[dict[str, Any]],
        *,
        cursor: str | None,
        failed: int,
        recheck: Sequence[str] = (),
        pages: int = 1,
    ) -> SyncRun | None:
        """Upsert the tickets of `pages` pages and advance the checkpoint, atomically.

        `records_processed` grows by the tickets this run had not stored yet, so a ticket read
        twice (updated during the import, or a page read again after a restart) counts once.
        Only the ids in `recheck` (those the caller knows may have been read before) are looked
        up: one query fewer per page on the common path.
        Returns the updated run, or None (nothing written) if the run is no longer running,
        e.g. cancelled meanwhile.
        """
        async with self._sessions.begin() as session:
            seen = await self._stored_by_run(session, run_id, tickets, recheck)
            advanced = (
                await session.execute(
                    update(SyncRun)
                    .where(SyncRun.ingestion_run_id == run_id)
                    .where(SyncRun.status == RunStatus.RUNNING.value)
                    .values(
                        cursor=cursor,
                        pages_done=SyncRun.pages_done + pages,
                        records_processed=SyncRun.records_processed + len(tickets) - seen,
                        records_failed=SyncRun.records_failed + failed,
                        updated_at=_now(),
                    )
                    .returning(SyncRun)
                )
            ).scalar_one_or_none()
            if advanced is None:
                return None
            if tickets:
                # executemany form: the compiled statement is cached, rows are batched.
                await session.execute(_UPSERT_TICKETS, list(tickets))
            return advanced

    @staticmethod
    async def _stored_by_run(
        session: AsyncSession,
        run_id: uuid.UUID,
        tickets: Sequence[dict[str, Any]],
        recheck: Sequence[str],
    ) -> int:
        """How many of `recheck` this run has stored already (one primary-key lookup each)."""
        if not tickets or not recheck:
            return 0
        first = tickets[0]
        result = await session.execute(
            select(func.count())
            .select_from(Ticket)
            .where(
                Ticket.tenant_id == first["tenant_id"],
                Ticket.connection_id == first["connection_id"],
                Ticket.external_id.in_(list(recheck)),
                Ticket.ingestion_run_id == run_id,
            )
        )
        return int(result.scalar_one())

    async def resumable_runs(self) -> list[SyncRun]:
        """Runs left pending or running by a previous process (to resume at start)."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(SyncRun)
                .where(SyncRun.status.in_([s.value for s in ACTIVE]))
                .order_by(SyncRun.created_at)
            )
            return list(rows.scalars())

    async def count_tickets(self, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> int:
        """Tickets stored for one connection."""
        async with self._sessions() as session:
            result = await session.execute(
                select(func.count())
                .select_from(Ticket)
                .where(Ticket.tenant_id == tenant_id, Ticket.connection_id == connection_id)
            )
            return int(result.scalar_one())


def _upsert_tickets_statement() -> Any:
    statement = insert(Ticket)
    keep = {"tenant_id", "connection_id", "external_id"}
    columns = [c.key for c in Ticket.__table__.columns if c.key not in keep]
    return statement.on_conflict_do_update(
        index_elements=[Ticket.tenant_id, Ticket.connection_id, Ticket.external_id],
        set_={name: statement.excluded[name] for name in columns},
    )


_UPSERT_TICKETS = _upsert_tickets_statement()
