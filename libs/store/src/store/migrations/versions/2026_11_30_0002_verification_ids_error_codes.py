"""Verification ids and times, error codes, array options.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 20:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "data_source_connections",
        sa.Column("last_verified_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "data_source_connections",
        sa.Column("last_verification_error_code", sa.String(length=64), nullable=True),
    )
    op.add_column("data_source_connections", sa.Column("verification_id", sa.Uuid(), nullable=True))
    op.add_column(
        "data_source_connections",
        sa.Column("verification_started_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("ingestion_runs", sa.Column("error_code", sa.String(length=64), nullable=True))
    # Rows verified before this revision: their last attempt succeeded when they are enabled.
    op.execute(
        "UPDATE data_source_connections SET last_verified_at = last_verification_at "
        "WHERE enabled AND last_verification_error IS NULL"
    )


def downgrade() -> None:
    op.drop_column("ingestion_runs", "error_code")
    op.drop_column("data_source_connections", "verification_started_at")
    op.drop_column("data_source_connections", "verification_id")
    op.drop_column("data_source_connections", "last_verification_error_code")
    op.drop_column("data_source_connections", "last_verified_at")
