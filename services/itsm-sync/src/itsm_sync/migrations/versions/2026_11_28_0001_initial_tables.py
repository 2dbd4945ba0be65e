"""initial tables

Revision ID: 008ecdf57b2f
Revises:
Create Date: 2026-11-28 11:01:33.970157
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "008ecdf57b2f"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "credentials",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("connection_type", sa.String(length=40), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "connection_id", "connection_type", name=op.f("pk_credentials")
        ),
    )
    op.create_table(
        "seen_webhooks",
        sa.Column("webhook_id", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("webhook_id", name=op.f("pk_seen_webhooks")),
    )
    op.create_index(
        op.f("ix_seen_webhooks_received_at"), "seen_webhooks", ["received_at"], unique=False
    )
    op.create_table(
        "sync_runs",
        sa.Column("ingestion_run_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("connection_type", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("time_range_days", sa.Integer(), nullable=False),
        sa.Column("jql", sa.Text(), nullable=True),
        sa.Column("next_page_token", sa.Text(), nullable=True),
        sa.Column("pages_done", sa.Integer(), nullable=False),
        sa.Column("total_estimated", sa.BigInteger(), nullable=True),
        sa.Column("records_processed", sa.BigInteger(), nullable=False),
        sa.Column("records_failed", sa.BigInteger(), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'completed', 'failed', 'cancelled')",
            name=op.f("ck_sync_runs_status_known"),
        ),
        sa.PrimaryKeyConstraint("ingestion_run_id", name=op.f("pk_sync_runs")),
    )
    op.create_index(op.f("ix_sync_runs_status"), "sync_runs", ["status"], unique=False)
    op.create_index(op.f("ix_sync_runs_tenant_id"), "sync_runs", ["tenant_id"], unique=False)
    op.create_table(
        "tickets",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("jira_issue_id", sa.String(length=64), nullable=False),
        sa.Column("issue_key", sa.String(length=64), nullable=False),
        sa.Column("project_key", sa.String(length=64), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=255), nullable=True),
        sa.Column("issue_type", sa.String(length=255), nullable=True),
        sa.Column("priority", sa.String(length=255), nullable=True),
        sa.Column("jira_created", sa.DateTime(timezone=True), nullable=True),
        sa.Column("jira_updated", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("ingestion_run_id", sa.Uuid(), nullable=False),
        sa.Column(
            "imported_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "connection_id", "jira_issue_id", name=op.f("pk_tickets")
        ),
    )


def downgrade() -> None:
    """Revert."""
    op.drop_table("tickets")
    op.drop_index(op.f("ix_sync_runs_tenant_id"), table_name="sync_runs")
    op.drop_index(op.f("ix_sync_runs_status"), table_name="sync_runs")
    op.drop_table("sync_runs")
    op.drop_index(op.f("ix_seen_webhooks_received_at"), table_name="seen_webhooks")
    op.drop_table("seen_webhooks")
    op.drop_table("credentials")
