"""API-side reads and transitions of `ingestion_runs` (always scoped by tenant)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts import (
    ACTIVE_RUN_STATUSES,
    ConnectionStatus,
    ErrorCode,
    IngestionRunStatus,
    LastSyncStatus,
)
from store.connections import update_connection
from store.tables import DataSourceConnection, IngestionRun

R = IngestionRun
ACTIVE = [s.value for s in ACTIVE_RUN_STATUSES]


async def active_run(
    session: AsyncSession, tenant_id: UUID, connection_id: UUID, *, for_update: bool = False
) -> IngestionRun | None:
    """The connection's pending or running run, if any (optionally locked)."""
    stmt = sa.select(R).where(
        R.tenant_id == tenant_id,  # type: ignore[arg-type]
        R.connection_id == connection_id,  # type: ignore[arg-type]
        R.status.in_(ACTIVE),  # type: ignore[attr-defined]
    )
    if for_update:
        stmt = stmt.with_for_update()
    result = await session.execute(stmt.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def list_runs(
    session: AsyncSession, tenant_id: UUID, connection_id: UUID, *, limit: int, offset: int = 0
) -> tuple[list[IngestionRun], int]:
    """A page of the connection's runs, newest first, and the total count."""
    where = (R.tenant_id == tenant_id, R.connection_id == connection_id)
    count = await session.scalar(sa.select(sa.func.count()).select_from(R).where(*where))  # type: ignore[arg-type]
    stmt = (
        sa.select(R)
        .where(*where)  # type: ignore[arg-type]
        .order_by(R.created_at.desc(), R.id.desc())  # type: ignore[union-attr,attr-defined]
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.execute(stmt)).scalars().all()
    return list(rows), int(count or 0)


async def create_run(
    session: AsyncSession,
    tenant_id: UUID,
    connection_id: UUID,
    *,
    started_by: str,
    time_range_days: int,
) -> IngestionRun:
    """Insert a pending run (the partial unique index refuses a second active one)."""
    run = R(
        tenant_id=tenant_id,
        connection_id=connection_id,
        started_by=started_by,
        status=IngestionRunStatus.PENDING.value,
        time_range_days=time_range_days,
        records_processed=0,
        records_failed=0,
    )
    session.add(run)
    await session.flush()
    await session.refresh(run)
    return run


async def update_active_run(
    session: AsyncSession, tenant_id: UUID, run_id: UUID, values: Mapping[str, Any]
) -> IngestionRun | None:
    """Change a run that is still pending or running; None if it is terminal or unknown."""
    stmt = (
        sa.update(R)
        .where(R.id == run_id, R.tenant_id == tenant_id, R.status.in_(ACTIVE))  # type: ignore[arg-type,attr-defined]
        .values(**values, updated_at=sa.func.now())
        .returning(R)
    )
    result = await session.execute(
        sa.select(R).from_statement(stmt).execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def end_run(
    session: AsyncSession,
    tenant_id: UUID,
    run_id: UUID,
    status: LastSyncStatus,
    *,
    error_message: str | None = None,
    error_detail: dict[str, Any] | None = None,
    error_code: ErrorCode | None = None,
) -> tuple[IngestionRun, DataSourceConnection | None] | None:
    """End an active run and put its connection back to idle with `last_sync_*`.

    Returns the changed rows, or None when the run had already ended (nothing changes).
    """
    now = sa.func.now()
    run = await update_active_run(
        session,
        tenant_id,
        run_id,
        {
            "status": status.value,
            "completed_at": now,
            "error_message": error_message,
            "error_detail": error_detail,
            "error_code": error_code.value if error_code else None,
        },
    )
    if run is None:
        return None
    values: dict[str, Any] = {
        "last_sync_status": status.value,
        "last_sync_at": run.completed_at,
        "last_sync_error": error_message,
    }
    connection = await update_connection(
        session,
        tenant_id,
        run.connection_id,
        {**values, "status": ConnectionStatus.IDLE.value},
        only_status=[ConnectionStatus.SYNCING.value],
    )
    if connection is None:
        # Not syncing (e.g. verifying again): record the outcome, leave its status alone.
        connection = await update_connection(session, tenant_id, run.connection_id, values)
    return run, connection


async def stale_run_ids(
    session: AsyncSession, older_than: datetime, *, limit: int = 100
) -> list[tuple[UUID, UUID]]:
    """(tenant, run) of active runs silent since `older_than`, locked; other replicas skip them."""
    stmt = (
        sa.select(col(R.tenant_id), col(R.id))
        .where(col(R.status).in_(ACTIVE), col(R.updated_at) < older_than)
        .order_by(col(R.updated_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


async def count_active_runs(session: AsyncSession) -> int:
    """How many runs are pending or running (all tenants; for the metric)."""
    stmt = sa.select(sa.func.count()).select_from(R).where(R.status.in_(ACTIVE))  # type: ignore[attr-defined]
    return int(await session.scalar(stmt) or 0)


async def active_run_ids(session: AsyncSession, run_ids: list[UUID]) -> set[UUID]:
    """Which of `run_ids` are still pending or running."""
    if not run_ids:
        return set()
    stmt = sa.select(col(R.id)).where(col(R.id).in_(run_ids), col(R.status).in_(ACTIVE))
    return set((await session.execute(stmt)).scalars().all())
