"""Tables and state transitions shared by connections-api and status-consumer."""

from store.tables import DataSourceConnection, IngestionRun, StatusMessageReceipt, WebhookOutbox

__all__ = ["DataSourceConnection", "IngestionRun", "StatusMessageReceipt", "WebhookOutbox"]

# status-consumer: batched application of status messages (consumer side of the state rules).
from store.status_apply import BatchResult, TenantMismatch, apply_status_batch, prune_receipts

__all__ += ["BatchResult", "TenantMismatch", "apply_status_batch", "prune_receipts"]
