"""Tables and state transitions shared by connections-api and status-consumer."""

from store.tables import DataSourceConnection, IngestionRun, StatusMessageReceipt, WebhookOutbox

__all__ = ["DataSourceConnection", "IngestionRun", "StatusMessageReceipt", "WebhookOutbox"]
