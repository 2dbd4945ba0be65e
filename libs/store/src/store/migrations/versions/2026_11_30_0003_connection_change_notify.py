"""Notify `data_source_connections_changed` with the tenant of every committed connection change.

The API keeps each tenant's connections page in memory and forgets it when this notification
arrives (connections_api.list_fast_path). Triggers, not application code, so that every writer is
covered: the API, the status consumer, rita-ops and an operator's psql. Statement-level with
transition tables: one notification per tenant per statement, however many rows it changed
(PostgreSQL also folds identical notifications of one transaction into one). NOTIFY is delivered
at commit, never for a rolled-back change. TRUNCATE notifies `*`: every tenant.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 23:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The channel is store.CONNECTIONS_CHANGED_CHANNEL, spelled out: a revision must not change when
# the code does.
FUNCTION = """
CREATE FUNCTION notify_connections_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('data_source_connections_changed', '*');
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM pg_notify('data_source_connections_changed', t.tenant_id::text)
        FROM (SELECT DISTINCT tenant_id FROM new_rows) AS t;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('data_source_connections_changed', t.tenant_id::text)
        FROM (SELECT DISTINCT tenant_id FROM old_rows) AS t;
    ELSE
        PERFORM pg_notify('data_source_connections_changed', t.tenant_id::text)
        FROM (SELECT tenant_id FROM new_rows UNION SELECT tenant_id FROM old_rows) AS t;
    END IF;
    RETURN NULL;
END
$$
"""

TRIGGERS = {
    "connections_changed_insert": "AFTER INSERT ON data_source_connections"
    " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    "connections_changed_update": "AFTER UPDATE ON data_source_connections"
    " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT",
    "connections_changed_delete": "AFTER DELETE ON data_source_connections"
    " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    "connections_changed_truncate": "AFTER TRUNCATE ON data_source_connections FOR EACH STATEMENT",
}


def upgrade() -> None:
    op.execute(FUNCTION)
    for name, when in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION notify_connections_changed()")


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON data_source_connections")
    op.execute("DROP FUNCTION notify_connections_changed()")
