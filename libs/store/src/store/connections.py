"""API-side reads and transitions of `data_source_connections` (always scoped by tenant)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts import (
    ALLOWED_DATA_SOURCE_TYPES,
    DEFAULT_DATA_SOURCES,
    ConnectionStatus,
    DataSourceType,
)
from store.tables import DataSourceConnection

T = DataSourceConnection


async def get_connection(
    session: AsyncSession, tenant_id: UUID, connection_id: UUID, *, for_update: bool = False
) -> DataSourceConnection | None:
    """The tenant's connection, optionally locked for the rest of the transaction."""
    stmt = sa.select(T).where(T.id == connection_id, T.tenant_id == tenant_id)  # type: ignore[arg-type]
    if for_update:
        stmt = stmt.with_for_update()
    result = await session.execute(stmt.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def list_connections(
    session: AsyncSession,
    tenant_id: UUID,
    types: Iterable[DataSourceType] = ALLOWED_DATA_SOURCE_TYPES,
) -> list[DataSourceConnection]:
    """The tenant's connections of `types`, in the order of `types`."""
    order = [t.value for t in types]
    stmt = sa.select(T).where(T.tenant_id == tenant_id, T.type.in_(order))  # type: ignore[arg-type,attr-defined]
    rows = (await session.execute(stmt)).scalars().all()
    return sorted(rows, key=lambda row: order.index(row.type))


async def seed_connections(
    session: AsyncSession, tenant_id: UUID, created_by: str
) -> list[DataSourceConnection]:
    """Create the tenant's default connections that do not exist yet; return the new rows."""
    values = [
        {
            "id": uuid4(),
            "tenant_id": tenant_id,
            "type": item.type.value,
            "name": item.name,
            "description": item.description,
            "status": "idle",
            "enabled": False,
            "version": 1,
            "created_by": created_by,
            "updated_by": created_by,
        }
        for item in DEFAULT_DATA_SOURCES
    ]
    stmt = (
        insert(T)
        .values(values)
        .on_conflict_do_nothing(constraint="uq_data_source_connections_tenant_type")
        .returning(T)
    )
    result = await session.execute(
        sa.select(T).from_statement(stmt).execution_options(populate_existing=True)
    )
    return list(result.scalars().all())


async def update_connection(
    session: AsyncSession,
    tenant_id: UUID,
    connection_id: UUID,
    values: Mapping[str, Any],
    *,
    only_status: Iterable[str] | None = None,
    only_verification: UUID | None = None,
) -> DataSourceConnection | None:
    """Change a connection (bumping `version` and `updated_at`); None if no row matched.

    `only_status` / `only_verification`: change it only in one of these statuses / only while
    this verification is the one in flight (a newer one must not be undone by an older one).
    """
    stmt = sa.update(T).where(T.id == connection_id, T.tenant_id == tenant_id)  # type: ignore[arg-type]
    if only_status is not None:
        stmt = stmt.where(T.status.in_(list(only_status)))  # type: ignore[attr-defined]
    if only_verification is not None:
        stmt = stmt.where(col(T.verification_id) == only_verification)
    stmt = stmt.values(**values, version=T.version + 1, updated_at=sa.func.now()).returning(T)
    result = await session.execute(
        sa.select(T).from_statement(stmt).execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def stale_verification_ids(
    session: AsyncSession, started_before: datetime, *, limit: int = 100
) -> list[tuple[UUID, UUID, UUID | None]]:
    """(tenant, connection, verification id) of verifications started before `started_before`
    and still unanswered, locked; other replicas skip them. A verification with no start time
    (begun before the time was recorded) counts as started at its row's last change."""
    started = sa.func.coalesce(col(T.verification_started_at), col(T.updated_at))
    stmt = (
        sa.select(col(T.tenant_id), col(T.id), col(T.verification_id))
        .where(col(T.status) == ConnectionStatus.VERIFYING.value, started < started_before)
        .order_by(started)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [(row[0], row[1], row[2]) for row in (await session.execute(stmt)).all()]
