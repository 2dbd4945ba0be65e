"""The tables connections-api owns (migrated by its Alembic revisions; keep both in step)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from contracts import (
    ALLOWED_DATA_SOURCE_TYPES,
    ConnectionStatus,
    IngestionRunStatus,
    LastSyncStatus,
)


def _in(column: str, values: object) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)  # type: ignore[attr-defined]
    return f"{column} IN ({quoted})"


def _timestamp(*, nullable: bool = True, default_now: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=sa.Column(
            sa.DateTime(timezone=True),
            nullable=nullable,
            server_default=sa.func.now() if default_now else None,
        ),
    )


def _jsonb(*, nullable: bool, default: Any) -> Any:
    factory = dict if default == {} else (lambda: default)
    return Field(
        default_factory=factory,
        sa_column=sa.Column(
            JSONB,
            nullable=nullable,
            server_default=sa.text("'{}'::jsonb") if default == {} else None,
        ),
    )


class DataSourceConnection(SQLModel, table=True):
    """One connection per tenant and type; `settings` never holds a secret."""

    __tablename__ = "data_source_connections"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "type", name="uq_data_source_connections_tenant_type"),
        sa.CheckConstraint(_in("type", ALLOWED_DATA_SOURCE_TYPES), name="ck_dsc_type"),
        sa.CheckConstraint(_in("status", ConnectionStatus), name="ck_dsc_status"),
        sa.CheckConstraint(
            f"last_sync_status IS NULL OR {_in('last_sync_status', LastSyncStatus)}",
            name="ck_dsc_last_sync_status",
        ),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    tenant_id: UUID = Field(index=True)
    type: str = Field(max_length=32)
    name: str = Field(max_length=255)
    description: str | None = Field(default=None)
    settings: dict[str, Any] = _jsonb(nullable=False, default={})
    config: dict[str, Any] = _jsonb(nullable=False, default={})
    # What the last successful verification discovered: an object (this project's sync service)
    # or an array (Rita's sync service), stored as sent.
    latest_options: dict[str, Any] | list[Any] | None = _jsonb(nullable=True, default=None)
    status: str = Field(default=ConnectionStatus.IDLE.value, max_length=16)
    enabled: bool = Field(default=False)
    # The last verification *attempt* (success or failure) and, apart from it, the last success:
    # a never-verified connection opens on the form, a verified one on its configuration.
    last_verification_at: datetime | None = _timestamp()
    last_verified_at: datetime | None = _timestamp()
    last_verification_error: str | None = Field(default=None)
    last_verification_error_code: str | None = Field(default=None, max_length=64)
    # The verification in flight (sent in `verify_credentials`, echoed by the result): a result
    # naming another id is stale and ignored; the reaper times it out after VERIFY_TIMEOUT.
    verification_id: UUID | None = Field(default=None)
    verification_started_at: datetime | None = _timestamp()
    last_sync_at: datetime | None = _timestamp()
    last_sync_status: str | None = Field(default=None, max_length=16)
    last_sync_error: str | None = Field(default=None)
    version: int = Field(default=1, sa_column=sa.Column(sa.BigInteger, nullable=False))
    created_by: str | None = Field(default=None)
    updated_by: str | None = Field(default=None)
    created_at: datetime | None = _timestamp(nullable=False, default_now=True)
    updated_at: datetime | None = _timestamp(nullable=False, default_now=True)


class IngestionRun(SQLModel, table=True):
    """One ticket import; at most one pending or running per connection (partial unique index)."""

    __tablename__ = "ingestion_runs"
    __table_args__ = (
        sa.CheckConstraint(_in("status", IngestionRunStatus), name="ck_ingestion_runs_status"),
        sa.Index(
            "uq_ingestion_runs_one_active_per_connection",
            "connection_id",
            unique=True,
            postgresql_where=sa.text("status IN ('pending', 'running')"),
        ),
        sa.Index("ix_ingestion_runs_connection_created", "connection_id", "created_at"),
        # The reaper's scan: active runs by last change.
        sa.Index(
            "ix_ingestion_runs_active_updated",
            "updated_at",
            postgresql_where=sa.text("status IN ('pending', 'running')"),
        ),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    tenant_id: UUID = Field(index=True)
    connection_id: UUID = Field(
        sa_column=sa.Column(
            sa.Uuid, sa.ForeignKey("data_source_connections.id", ondelete="CASCADE"), nullable=False
        )
    )
    started_by: str | None = Field(default=None)
    status: str = Field(default=IngestionRunStatus.PENDING.value, max_length=16)
    time_range_days: int
    records_processed: int = Field(default=0)
    records_failed: int = Field(default=0)
    total_estimated: int | None = Field(default=None)
    error_message: str | None = Field(default=None)
    error_code: str | None = Field(default=None, max_length=64)
    error_detail: dict[str, Any] | None = _jsonb(nullable=True, default=None)
    # `metadata` is reserved on declarative classes: the attribute has another name.
    run_metadata: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=sa.Column(
            "metadata", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")
        ),
    )
    created_at: datetime | None = _timestamp(nullable=False, default_now=True)
    started_at: datetime | None = _timestamp()
    completed_at: datetime | None = _timestamp()
    updated_at: datetime | None = _timestamp(nullable=False, default_now=True)


class WebhookOutbox(SQLModel, table=True):
    """A webhook without secrets, written with its state change and delivered by the relay."""

    __tablename__ = "webhook_outbox"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name="ck_webhook_outbox_status"
        ),
        sa.Index(
            "ix_webhook_outbox_due",
            "next_attempt_at",
            postgresql_where=sa.text("status = 'pending'"),
        ),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, sa.Identity(), primary_key=True)
    )
    # Standard Webhooks `webhook-id`: stable across retries so the receiver can de-duplicate.
    webhook_id: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    tenant_id: UUID
    connection_id: UUID
    ingestion_run_id: UUID | None = Field(default=None)
    action: str = Field(max_length=32)
    payload: dict[str, Any] = _jsonb(nullable=False, default={})
    status: str = Field(default="pending", max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = _timestamp(nullable=False, default_now=True)
    last_error: str | None = Field(default=None)
    created_at: datetime | None = _timestamp(nullable=False, default_now=True)
    delivered_at: datetime | None = _timestamp()


class StatusMessageReceipt(SQLModel, table=True):
    """`message_id`s already applied by the status consumer (de-duplication of redeliveries)."""

    __tablename__ = "status_message_receipts"

    message_id: str = Field(primary_key=True, max_length=200)
    received_at: datetime | None = _timestamp(nullable=False, default_now=True)
