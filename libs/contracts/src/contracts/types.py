"""Connection types, their groupings, and the status vocabularies of connections and runs."""

from __future__ import annotations

from enum import StrEnum
from typing import Final, NamedTuple


class DataSourceType(StrEnum):
    """A stored connection type (`data_source_connections.type`)."""

    CONFLUENCE = "confluence"
    SERVICENOW = "servicenow"
    SHAREPOINT = "sharepoint"
    WEBSEARCH = "websearch"
    JIRA = "jira"
    JIRA_ITSM = "jira_itsm"


ALLOWED_DATA_SOURCE_TYPES: Final[tuple[DataSourceType, ...]] = tuple(DataSourceType)

# The console's ITSM list. `freshdesk` is a placeholder card: it is shown, never stored.
FRESHDESK_PLACEHOLDER: Final = "freshdesk"
ITSM_SOURCES_ORDER: Final[tuple[str, ...]] = (
    DataSourceType.SERVICENOW,
    DataSourceType.JIRA_ITSM,
    FRESHDESK_PLACEHOLDER,
)
ITSM_SOURCE_TYPES: Final[frozenset[DataSourceType]] = frozenset(
    {DataSourceType.SERVICENOW, DataSourceType.JIRA_ITSM}
)
KNOWLEDGE_SOURCE_TYPES: Final[tuple[DataSourceType, ...]] = (
    DataSourceType.CONFLUENCE,
    DataSourceType.SHAREPOINT,
    DataSourceType.SERVICENOW,
    DataSourceType.WEBSEARCH,
    DataSourceType.JIRA,
)
# Ticket import accepts these and nothing else (`jira` is a knowledge source, not a ticket source).
TICKET_SYNC_TYPES: Final[frozenset[DataSourceType]] = frozenset(
    {DataSourceType.SERVICENOW, DataSourceType.JIRA_ITSM}
)


class SourceCategory(StrEnum):
    """The two lists of the console."""

    ITSM = "itsm"
    KNOWLEDGE = "knowledge"


def types_in_category(category: SourceCategory) -> tuple[DataSourceType, ...]:
    """Stored types shown in one console list, in console order."""
    if category is SourceCategory.ITSM:
        return tuple(DataSourceType(t) for t in ITSM_SOURCES_ORDER if t != FRESHDESK_PLACEHOLDER)
    return KNOWLEDGE_SOURCE_TYPES


class ConnectionStatus(StrEnum):
    """What the connection is doing now."""

    IDLE = "idle"
    VERIFYING = "verifying"
    SYNCING = "syncing"


class IngestionRunStatus(StrEnum):
    """Life cycle of one ticket import."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_RUN_STATUSES

    @property
    def is_active(self) -> bool:
        return not self.is_terminal


TERMINAL_RUN_STATUSES: Final[frozenset[IngestionRunStatus]] = frozenset(
    {IngestionRunStatus.COMPLETED, IngestionRunStatus.FAILED, IngestionRunStatus.CANCELLED}
)
ACTIVE_RUN_STATUSES: Final[frozenset[IngestionRunStatus]] = frozenset(
    {IngestionRunStatus.PENDING, IngestionRunStatus.RUNNING}
)


class LastSyncStatus(StrEnum):
    """How the most recent import of a connection ended."""

    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class DefaultDataSource(NamedTuple):
    """One row that `POST /api/data-sources/seed` creates for a tenant."""

    type: DataSourceType
    name: str
    description: str


DEFAULT_DATA_SOURCES: Final[tuple[DefaultDataSource, ...]] = (
    DefaultDataSource(
        DataSourceType.CONFLUENCE, "Confluence", "Connect your Atlassian Confluence workspace"
    ),
    DefaultDataSource(DataSourceType.SERVICENOW, "ServiceNow", "Connect your ServiceNow instance"),
    DefaultDataSource(
        DataSourceType.SHAREPOINT, "SharePoint", "Connect your Microsoft SharePoint sites"
    ),
    DefaultDataSource(DataSourceType.WEBSEARCH, "Web Search", "Search the public web"),
    DefaultDataSource(DataSourceType.JIRA, "Jira", "Connect your Atlassian Jira instance"),
    DefaultDataSource(
        DataSourceType.JIRA_ITSM, "Jira ITSM", "Import tickets from Jira for Autopilot clustering"
    ),
)
