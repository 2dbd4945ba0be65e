"""Tables and state transitions shared by connections-api and status-consumer."""

from store.tables import DataSourceConnection, IngestionRun, StatusMessageReceipt, WebhookOutbox

__all__ = ["DataSourceConnection", "IngestionRun", "StatusMessageReceipt", "WebhookOutbox"]

# connections-api: the notice every committed change of a tenant's connections sends.
from store.change_notices import (
    CONNECTIONS_CHANGED_CHANNEL,
    EVERY_TENANT,
    PROBE_PREFIX,
    changed_tenant,
)

# status-consumer: batched application of status messages (consumer side of the state rules).
from store.status_apply import (
    BatchResult,
    StaleVerification,
    TenantMismatch,
    apply_status_batch,
    prune_receipts,
)
from store.status_kinds import Rejected

__all__ += ["CONNECTIONS_CHANGED_CHANNEL", "EVERY_TENANT", "PROBE_PREFIX", "changed_tenant"]
__all__ += [
    "BatchResult",
    "Rejected",
    "StaleVerification",
    "TenantMismatch",
    "apply_status_batch",
    "prune_receipts",
]


def migrate(database_url: str, revision: str = "head") -> None:
    """Upgrade the schema at `database_url` to `revision` (Alembic; see `store.migrating`)."""
    from store.migrating import migrate as upgrade  # Alembic is imported only to migrate

    upgrade(database_url, revision)


__all__ += ["migrate"]
