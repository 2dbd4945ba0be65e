"""ServiceNow behind the connector interface: Table API reads with Basic auth.

Verify: the account's own `sys_user` record (proves the instance and the password), one incident
(proves it may read incidents), every assignment group, and the incident count of the range.
Import: incidents updated in the range, in keyset pages (`paging.py`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BaseModel

from contracts import (
    DataSourceType,
    ServiceNowCredentials,
    ServiceNowSettings,
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
from itsm_sync.connectors.servicenow.client import ServiceNowClient
from itsm_sync.connectors.servicenow.paging import IncidentPager, Key
from itsm_sync.connectors.servicenow.query import import_query, instance_base, safe_user_name
from itsm_sync.connectors.servicenow.tickets import incident_ticket

# The range of `incident_count` when the verification does not name one (the console's default).
DEFAULT_COUNT_DAYS: Final = 30


class ServiceNowImporter:
    """Pages of one import query; the cursor is the key of the last record read."""

    def __init__(self, client: ServiceNowClient, query: str) -> None:
        self._client = client
        self._query = query
        self._pager = IncidentPager(client, query)

    async def total(self) -> int:
        """Incidents in the range now (`X-Total-Count`, else the stats API)."""
        return await self._client.count("incident", self._query)

    async def page(self, cursor: str | None, size: int) -> TicketPage:
        """The page after `cursor`."""
        found = await self._pager.page(Key.parse(cursor) if cursor else None, size)
        next_cursor = None if found.last or found.after is None else found.after.cursor()
        return ticket_page(found.records, incident_ticket, next_cursor)


class ServiceNowConnector:
    """`servicenow`: a ServiceNow instance, a user name and a password."""

    source_type = DataSourceType.SERVICENOW
    name = "ServiceNow"

    async def verify(
        self, settings: dict[str, Any], credentials: BaseModel, site: Site
    ) -> Verified:
        """Own user record, one incident, the assignment groups, the count of the range."""
        if not isinstance(credentials, ServiceNowCredentials):
            raise Refused("ServiceNow needs a user name and a password")
        given = dict(settings)
        days = given.pop("time_range_days", DEFAULT_COUNT_DAYS)
        given.setdefault("username", credentials.username)
        parsed = parse_settings(ServiceNowSettings, given, self.name)
        if not isinstance(days, int) or not 1 <= days <= 365:
            raise Refused("Invalid ServiceNow settings: time_range_days must be 1 to 365")
        instance = instance_base(parsed.instance_url)
        await check_site(instance, site, "ServiceNow instance")
        username = safe_user_name(credentials.username)
        client = ServiceNowClient(site.http, instance, username, credentials.password, site.policy)
        await client.find_user(username)
        await client.read_one_incident()
        # Read in sys_id order (stable paging), offered by name (what a person looks for).
        groups = sorted(
            await client.assignment_groups(), key=lambda g: (g["name"].lower(), g["id"])
        )
        count = await client.count("incident", import_query(datetime.now(UTC), days, []))
        stored = {"instance_url": instance, "username": username}
        options = {"assignment_groups": groups, "incident_count": count}
        return Verified(instance, stored, credentials, options)

    def import_query(self, settings: SyncTicketsSettings, now: datetime) -> str:
        """`sys_updated_on>=<start>[^assignment_groupIN…]`; the start is fixed at creation."""
        groups = scope_ids(settings, "assignment_group_ids")
        return import_query(now, settings.time_range_days, groups)

    def importer(self, connection: StoredConnection, query: str, site: Site) -> ServiceNowImporter:
        """Pages of `query` as the verified account."""
        credentials = stored_credentials(ServiceNowCredentials, connection, self.name)
        client = ServiceNowClient(
            site.http, connection.base_url, credentials.username, credentials.password, site.policy
        )
        return ServiceNowImporter(client, query)
