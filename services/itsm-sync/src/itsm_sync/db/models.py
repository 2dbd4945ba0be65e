"""Tables of itsm-sync's database (migrated by the Alembic revisions under `migrations/`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (Alembic diffs stay clean)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSONB}


def _created() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Credential(Base):
    """Verified credentials of one connection; the secret part is AES-GCM ciphertext only."""

    __tablename__ = "credentials"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    connection_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    connection_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    base_url: Mapped[str] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # JSON of the credentials model, encrypted; associated data = the three key columns.
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()


class Ticket(Base):
    """One imported ticket (a Jira issue, a ServiceNow incident), upserted by its source id."""

    __tablename__ = "tickets"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    connection_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # The ticket's id in its system (Jira issue id, ServiceNow sys_id).
    external_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source_type: Mapped[str] = mapped_column(String(40))  # the connection type: jira_itsm, …
    ticket_key: Mapped[str] = mapped_column(String(64))  # IT-42, INC0010042
    scope: Mapped[str | None] = mapped_column(String(64))  # project key, assignment group id
    summary: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(255))
    ticket_type: Mapped[str | None] = mapped_column(String(255))  # issue type, category
    priority: Mapped[str | None] = mapped_column(String(255))
    source_created: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source_updated: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ingestion_run_id: Mapped[uuid.UUID]
    imported_at: Mapped[datetime] = _created()


class SyncRun(Base):
    """One ingestion run and its checkpoint (the cursor of the page to fetch next)."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'running', 'completed', 'failed', 'cancelled')",
            name="status_known",
        ),
    )

    ingestion_run_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(index=True)
    connection_id: Mapped[uuid.UUID]
    connection_type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), index=True)
    time_range_days: Mapped[int] = mapped_column(Integer)
    # The connector's query, fixed when the run is created (JQL, a ServiceNow encoded query).
    query: Mapped[str | None] = mapped_column(Text)
    cursor: Mapped[str | None] = mapped_column(Text)
    pages_done: Mapped[int] = mapped_column(Integer, default=0)
    total_estimated: Mapped[int | None] = mapped_column(BigInteger)
    records_processed: Mapped[int] = mapped_column(BigInteger, default=0)
    records_failed: Mapped[int] = mapped_column(BigInteger, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SeenWebhook(Base):
    """`webhook-id`s already accepted, so a redelivery is answered without doing it twice."""

    __tablename__ = "seen_webhooks"

    webhook_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    action: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
