"""One folder per ITSM system behind one interface (`base.Connector`); this is the registry.

A new system is a new folder that implements `Connector` and one line in `CONNECTORS`.
"""

from __future__ import annotations

from typing import Final

from contracts import DataSourceType
from itsm_sync.connectors.base import Connector
from itsm_sync.connectors.jira import JiraConnector
from itsm_sync.connectors.servicenow import ServiceNowConnector

CONNECTORS: Final[dict[DataSourceType, Connector]] = {
    connector.source_type: connector for connector in (JiraConnector(), ServiceNowConnector())
}


def connector_for(connection_type: str) -> Connector | None:
    """The connector of a type, or None if this service does not sync it."""
    try:
        return CONNECTORS.get(DataSourceType(connection_type))
    except ValueError:
        return None
