"""Jira Cloud (`jira_itsm`): REST API v3, Basic auth with an email and an API token."""

from itsm_sync.connectors.jira.client import TICKET_FIELDS, JiraClient, SearchPage
from itsm_sync.connectors.jira.connector import JiraConnector
from itsm_sync.connectors.jira.jql import import_jql

__all__ = ["TICKET_FIELDS", "JiraClient", "JiraConnector", "SearchPage", "import_jql"]
