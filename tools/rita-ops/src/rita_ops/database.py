"""Reads and operator actions on Rita's database, through libs/store's tables and transitions.

An action changes rows the way the API would (the run's state rules live in `store.runs`) and,
once its transaction has committed, publishes the changed rows as events so open consoles update.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import col

from contracts import (
    ACTIVE_RUN_STATUSES,
    ErrorCode,
    EventName,
    LastSyncStatus,
)
from events import EventPublisher, OutgoingEvent
from rita_ops.config import Settings
from store import outbox
from store.public import connection_public, run_public
from store.runs import end_run
from store.tables import DataSourceConnection, IngestionRun, WebhookOutbox

ACTIVE = [status.value for status in ACTIVE_RUN_STATUSES]
OPERATOR = "rita-ops"


class OpsError(Exception):
    """An action that cannot be done as asked; the message is for the operator."""


@asynccontextmanager
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A small engine for one command."""
    engine = create_async_engine(settings.database_url, pool_size=1, max_overflow=0)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


def run_row(run: IngestionRun, now: datetime | None = None) -> dict[str, Any]:
    """A run as rita-ops prints it (the public row plus how long it has been silent)."""
    data = run_public(run).model_dump(mode="json")
    if run.updated_at is not None:
        silent = (now or datetime.now(UTC)) - run.updated_at
        data["silent_seconds"] = int(silent.total_seconds())
    return data


async def list_runs(
    session: AsyncSession,
    *,
    tenant_id: UUID | None,
    stuck_after: float | None,
    status: str | None,
    limit: int,
) -> list[IngestionRun]:
    """Runs newest first; with `stuck_after`, active runs silent that long, oldest first."""
    stmt = sa.select(IngestionRun)
    if tenant_id is not None:
        stmt = stmt.where(col(IngestionRun.tenant_id) == tenant_id)
    if status is not None:
        stmt = stmt.where(col(IngestionRun.status) == status)
    if stuck_after is not None:
        cutoff = datetime.now(UTC) - timedelta(seconds=stuck_after)
        stmt = stmt.where(
            col(IngestionRun.status).in_(ACTIVE), col(IngestionRun.updated_at) < cutoff
        ).order_by(col(IngestionRun.updated_at))
    else:
        stmt = stmt.order_by(col(IngestionRun.created_at).desc(), col(IngestionRun.id))
    return list((await session.execute(stmt.limit(limit))).scalars().all())


async def find_run(session: AsyncSession, run_id: UUID, tenant_id: UUID | None) -> IngestionRun:
    """The run, or `OpsError` (also when it belongs to another tenant than the one named)."""
    run = await session.get(IngestionRun, run_id, populate_existing=True)
    if run is None or (tenant_id is not None and run.tenant_id != tenant_id):
        raise OpsError(
            f"no ingestion run {run_id}" + (f" in tenant {tenant_id}" if tenant_id else "")
        )
    return run


async def fail_run(
    session: AsyncSession, run: IngestionRun, reason: str
) -> tuple[IngestionRun, DataSourceConnection | None]:
    """End an active run as failed, its connection idle, and queue `cancel_ingestion` so the sync
    service stops working on it. The caller commits, then publishes `run_events`."""
    if run.status not in ACTIVE:
        raise OpsError(f"run {run.id} already ended ({run.status}); nothing to fail")
    ended = await end_run(
        session,
        run.tenant_id,
        run.id,
        LastSyncStatus.FAILED,
        error_message=f"Stopped by an operator: {reason}"[:500],
        error_detail={"error_code": ErrorCode.INTERNAL.value, "failed_by": OPERATOR},
    )
    if ended is None:  # ended meanwhile (the consumer or the reaper got there first)
        raise OpsError(f"run {run.id} ended while it was being failed; nothing changed")
    failed, connection = ended
    conn_row = connection or await session.get(DataSourceConnection, failed.connection_id)
    if conn_row is not None:
        await outbox.enqueue_cancel(session, failed, conn_row, user_id=OPERATOR)
    return failed, connection


async def publish_changes(
    settings: Settings, run: IngestionRun | None, connection: DataSourceConnection | None
) -> list[str]:
    """Publish the committed rows as events (the ids); a Redis outage is reported, not hidden."""
    items: list[OutgoingEvent] = []
    if run is not None:
        items.append(OutgoingEvent(run.tenant_id, EventName.INGESTION_RUN_UPDATE, run_public(run)))
    if connection is not None:
        items.append(
            OutgoingEvent(
                connection.tenant_id,
                EventName.DATA_SOURCE_UPDATE,
                connection_public(connection),
            )
        )
    client = Redis.from_url(settings.redis_url)
    try:
        publisher = EventPublisher(client, prefix=settings.events_key_prefix)
        return await publisher.publish_many(items)
    finally:
        await client.aclose()


async def find_connection(
    session: AsyncSession, connection_id: UUID, tenant_id: UUID | None
) -> DataSourceConnection:
    """The connection, or `OpsError`."""
    row = await session.get(DataSourceConnection, connection_id, populate_existing=True)
    if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
        raise OpsError(
            f"no connection {connection_id}" + (f" in tenant {tenant_id}" if tenant_id else "")
        )
    return row


async def connection_report(session: AsyncSession, row: DataSourceConnection) -> dict[str, Any]:
    """The public row, its active run, its latest runs and its outbox rows by status."""
    runs = (
        (
            await session.execute(
                sa.select(IngestionRun)
                .where(col(IngestionRun.connection_id) == row.id)
                .order_by(col(IngestionRun.created_at).desc())
                .limit(5)
            )
        )
        .scalars()
        .all()
    )
    counts = (
        await session.execute(
            sa.select(col(WebhookOutbox.status), sa.func.count())
            .where(col(WebhookOutbox.connection_id) == row.id)
            .group_by(col(WebhookOutbox.status))
        )
    ).all()
    active = next((run for run in runs if run.status in ACTIVE), None)
    return {
        "connection": connection_public(row).model_dump(mode="json"),
        "active_run": run_row(active) if active is not None else None,
        "recent_runs": [run_row(run) for run in runs],
        "webhooks": {status: int(count) for status, count in counts},
    }


def webhook_row(row: WebhookOutbox) -> dict[str, Any]:
    """An outbox row without its payload (the payload carries no secret, but it is the ITSM's
    settings: not needed to decide a retry)."""
    return {
        "id": row.id,
        "webhook_id": row.webhook_id,
        "tenant_id": row.tenant_id,
        "connection_id": row.connection_id,
        "ingestion_run_id": row.ingestion_run_id,
        "action": row.action,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_error": row.last_error,
        "created_at": row.created_at,
    }


async def list_webhooks(
    session: AsyncSession, *, tenant_id: UUID | None, status: str | None, limit: int
) -> list[WebhookOutbox]:
    """Outbox rows, oldest first."""
    stmt = sa.select(WebhookOutbox)
    if tenant_id is not None:
        stmt = stmt.where(col(WebhookOutbox.tenant_id) == tenant_id)
    if status is not None:
        stmt = stmt.where(col(WebhookOutbox.status) == status)
    stmt = stmt.order_by(col(WebhookOutbox.id)).limit(limit)
    return list((await session.execute(stmt)).scalars().all())


async def find_webhook(
    session: AsyncSession, webhook: str, tenant_id: UUID | None
) -> WebhookOutbox:
    """An outbox row by its number or its `webhook-id` (`msg_...`), locked for the change."""
    where = (
        col(WebhookOutbox.id) == int(webhook)
        if webhook.isdigit()
        else col(WebhookOutbox.webhook_id) == webhook
    )
    stmt = sa.select(WebhookOutbox).where(where).with_for_update()
    row = (
        await session.execute(stmt.execution_options(populate_existing=True))
    ).scalar_one_or_none()
    if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
        raise OpsError(f"no webhook {webhook}" + (f" in tenant {tenant_id}" if tenant_id else ""))
    return row


async def retry_webhook(session: AsyncSession, row: WebhookOutbox) -> str | None:
    """Put a failed webhook back in the queue for the relay now, with a fresh attempt budget.

    Returns a warning when the relay will drop it anyway (its run ended meanwhile).
    """
    if row.status != outbox.FAILED:
        raise OpsError(f"webhook {row.id} is {row.status}, only failed webhooks are retried")
    await session.execute(
        sa.update(WebhookOutbox)
        .where(col(WebhookOutbox.id) == row.id)
        .values(status=outbox.PENDING, attempts=0, next_attempt_at=sa.func.now())
    )
    if row.ingestion_run_id is None or row.action != "sync_tickets":
        return None
    run = await session.get(IngestionRun, row.ingestion_run_id)
    if run is not None and run.status not in ACTIVE:
        return (
            f"run {run.id} already ended ({run.status}): the relay drops this sync_tickets webhook"
        )
    return None
