"""tickets of any source: source_type and system-neutral column names; runs keep a query/cursor

Revision ID: 5c1e7a2b9d40
Revises: 008ecdf57b2f
Create Date: 2026-11-30 20:40:00

Renames only (no data moves): rows already imported from Jira get `source_type = 'jira_itsm'`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e7a2b9d40"
down_revision: str | None = "008ecdf57b2f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TICKET_RENAMES = (
    ("jira_issue_id", "external_id"),
    ("issue_key", "ticket_key"),
    ("project_key", "scope"),
    ("issue_type", "ticket_type"),
    ("jira_created", "source_created"),
    ("jira_updated", "source_updated"),
)
_RUN_RENAMES = (("jql", "query"), ("next_page_token", "cursor"))


def upgrade() -> None:
    """Apply."""
    for old, new in _TICKET_RENAMES:
        op.alter_column("tickets", old, new_column_name=new)
    for old, new in _RUN_RENAMES:
        op.alter_column("sync_runs", old, new_column_name=new)
    op.add_column(
        "tickets",
        sa.Column("source_type", sa.String(length=40), nullable=False, server_default="jira_itsm"),
    )
    # The default only fills existing rows; every new row names its source.
    op.alter_column("tickets", "source_type", server_default=None)


def downgrade() -> None:
    """Revert (ServiceNow tickets stay, under the Jira column names)."""
    op.drop_column("tickets", "source_type")
    for old, new in _RUN_RENAMES:
        op.alter_column("sync_runs", new, new_column_name=old)
    for old, new in _TICKET_RENAMES:
        op.alter_column("tickets", new, new_column_name=old)
