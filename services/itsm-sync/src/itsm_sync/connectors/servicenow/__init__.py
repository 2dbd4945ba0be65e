"""ServiceNow (`servicenow`): the Table API with Basic auth (a user name and a password)."""

from itsm_sync.connectors.servicenow.client import INCIDENT_FIELDS, ServiceNowClient
from itsm_sync.connectors.servicenow.connector import ServiceNowConnector
from itsm_sync.connectors.servicenow.query import import_query, instance_base

__all__ = [
    "INCIDENT_FIELDS",
    "ServiceNowClient",
    "ServiceNowConnector",
    "import_query",
    "instance_base",
]
