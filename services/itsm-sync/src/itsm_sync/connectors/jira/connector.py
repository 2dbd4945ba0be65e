"""Jira behind the connector interface: verify with four reads, import with `/search/jql`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from contracts import (
    DataSourceType,
    JiraItsmCredentials,
    JiraItsmSettings,
    SyncTicketsSettings,
)
from itsm_sync.connectors.base import (
    Refused,
    Site,
    StoredConnection,
    TicketPage,
    Verified,
    check_site,
    parse_settings,
    scope_ids,
    stored_credentials,
    ticket_page,
)
from itsm_sync.connectors.errors import BadRequest, CursorExpired
from itsm_sync.connectors.jira.client import JiraClient
from itsm_sync.connectors.jira.jql import import_jql
from itsm_sync.connectors.jira.tickets import issue_ticket


def _unique(items: list[dict[str, Any]], key: str) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for item in items:
        if item.get(key) is not None:
            seen.setdefault(str(item[key]), {key: str(item[key]), "name": str(item.get("name"))})
    return list(seen.values())


class JiraImporter:
    """Pages of one JQL query; the cursor is Jira's `nextPageToken`."""

    def __init__(self, client: JiraClient, jql: str) -> None:
        self._client = client
        self._jql = jql

    async def total(self) -> int:
        """`POST /search/approximate-count`."""
        return await self._client.approximate_count(self._jql)

    async def page(self, cursor: str | None, size: int) -> TicketPage:
        """One page of `/search/jql`; an expired token is `CursorExpired`."""
        try:
            found = await self._client.search_page(self._jql, cursor, size)
        except BadRequest as exc:
            if cursor is None:
                raise
            raise CursorExpired(exc.message) from None
        more = not found.is_last and found.next_page_token is not None
        return ticket_page(found.issues, issue_ticket, found.next_page_token if more else None)


class JiraConnector:
    """`jira_itsm`: Jira Cloud, an email and an API token."""

    source_type = DataSourceType.JIRA_ITSM
    name = "Jira"

    async def verify(
        self, settings: dict[str, Any], credentials: BaseModel, site: Site
    ) -> Verified:
        """`/myself`, every `/project/search` page, `/issuetype` and `/status`."""
        if not isinstance(credentials, JiraItsmCredentials):
            raise Refused("Jira needs an email and an API token")
        parsed = parse_settings(JiraItsmSettings, settings, self.name)
        await check_site(parsed.base_url, site, "Jira")
        client = JiraClient(
            site.http, parsed.base_url, credentials.email, credentials.api_token, site.policy
        )
        await client.myself()
        projects = await client.projects()
        issue_types = await client.issue_types()
        statuses = await client.statuses()
        options = {
            "projects": [
                {"key": str(p.get("key")), "name": str(p.get("name"))}
                for p in projects
                if p.get("key")
            ],
            "issue_types": _unique(issue_types, "id"),
            "statuses": _unique(statuses, "id"),
        }
        return Verified(parsed.base_url, parsed.model_dump(mode="json"), credentials, options)

    def import_query(self, settings: SyncTicketsSettings, now: datetime) -> str:
        """`[project in (...) AND ]updated >= -Nd ORDER BY updated ASC` (relative to Jira's now)."""
        return import_jql(settings.time_range_days, scope_ids(settings, "project_keys"))

    def importer(self, connection: StoredConnection, query: str, site: Site) -> JiraImporter:
        """Pages of `query` as the verified account."""
        credentials = stored_credentials(JiraItsmCredentials, connection, self.name)
        client = JiraClient(
            site.http, connection.base_url, credentials.email, credentials.api_token, site.policy
        )
        return JiraImporter(client, query)
