"""The webhook outbox: rows written with their state change, claimed by relays with SKIP LOCKED."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from contracts import CancelIngestionWebhook, DataSourceType, SyncTicketsWebhook
from store.tables import DataSourceConnection, IngestionRun, WebhookOutbox

W = WebhookOutbox
PENDING: Final = "pending"
DELIVERED: Final = "delivered"
FAILED: Final = "failed"


def new_webhook_id() -> str:
    """A Standard Webhooks message id (`msg_...`), stable across retries."""
    return f"msg_{uuid.uuid4().hex}"


async def enqueue(
    session: AsyncSession, webhook: SyncTicketsWebhook | CancelIngestionWebhook
) -> WebhookOutbox:
    """Queue a webhook (it carries no secret) in the caller's transaction."""
    row = W(
        webhook_id=new_webhook_id(),
        tenant_id=webhook.tenant_id,
        connection_id=webhook.connection_id,
        ingestion_run_id=webhook.ingestion_run_id,
        action=webhook.action,
        payload=webhook.model_dump(mode="json"),
        status=PENDING,
        attempts=0,
    )
    session.add(row)
    await session.flush()
    return row


async def enqueue_cancel(
    session: AsyncSession,
    run: IngestionRun,
    connection: DataSourceConnection,
    *,
    user_id: str,
    user_email: str | None = None,
) -> WebhookOutbox:
    """Queue `cancel_ingestion` for an ended run, so the sync service stops working on it."""
    webhook = CancelIngestionWebhook(
        tenant_id=run.tenant_id,
        user_id=user_id,
        user_email=user_email,
        connection_id=run.connection_id,
        connection_type=DataSourceType(connection.type),
        settings=dict(connection.settings),
        ingestion_run_id=run.id,
    )
    return await enqueue(session, webhook)


async def claim_due(session: AsyncSession, *, limit: int) -> list[WebhookOutbox]:
    """Lock due rows that no other relay holds, oldest first.

    A row waits while an older pending row of the same connection exists, so a connection's
    webhooks (sync, then cancel) arrive in the order they were queued.
    """
    older = aliased(W)
    earlier_pending = (
        sa.select(sa.literal(1))
        .where(
            col(older.connection_id) == col(W.connection_id),
            col(older.status) == PENDING,
            col(older.id) < col(W.id),
        )
        .exists()
    )
    stmt = (
        sa.select(W)
        .where(col(W.status) == PENDING, col(W.next_attempt_at) <= sa.func.now(), ~earlier_pending)
        .order_by(col(W.id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=W)
    )
    result = await session.execute(stmt.execution_options(populate_existing=True))
    return list(result.scalars().all())


async def mark_delivered(session: AsyncSession, row_id: int, attempts: int) -> None:
    """The receiver accepted the webhook."""
    await session.execute(
        sa.update(W)
        .where(col(W.id) == row_id)
        .values(status=DELIVERED, attempts=attempts, delivered_at=sa.func.now(), last_error=None)
    )


async def schedule_retry(
    session: AsyncSession, row_id: int, attempts: int, delay_seconds: float, error: str
) -> None:
    """Try again after `delay_seconds`."""
    await session.execute(
        sa.update(W)
        .where(col(W.id) == row_id)
        .values(
            attempts=attempts,
            last_error=error[:500],
            next_attempt_at=sa.func.now() + timedelta(seconds=delay_seconds),
        )
    )


async def mark_failed(session: AsyncSession, row_id: int, attempts: int, error: str) -> None:
    """Give up on this webhook."""
    await session.execute(
        sa.update(W)
        .where(col(W.id) == row_id)
        .values(status=FAILED, attempts=attempts, last_error=error[:500])
    )


async def pending_count(session: AsyncSession) -> int:
    """How many webhooks wait for delivery (the outbox depth)."""
    stmt = sa.select(sa.func.count()).select_from(W).where(col(W.status) == PENDING)
    return int(await session.scalar(stmt) or 0)
