"""ServiceNow Table API calls used by itsm-sync (over the shared `ApiCaller`, Basic auth).

Every call asks for raw values (`sysparm_display_value=false`) without reference links
(`sysparm_exclude_reference_link=true`), only the fields it needs, and reads the standard
`{"result": [...]}` body; anything else is "not a ServiceNow instance".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import httpx
from pydantic import SecretStr

from itsm_sync.connectors.errors import Forbidden
from itsm_sync.connectors.http import ApiCaller, RetryPolicy, Wording

# Incident fields stored per ticket: what clustering needs, nothing more.
INCIDENT_FIELDS: Final = (
    "sys_id",
    "number",
    "short_description",
    "description",
    "state",
    "priority",
    "impact",
    "urgency",
    "category",
    "subcategory",
    "assignment_group",
    "sys_created_on",
    "sys_updated_on",
    "resolved_at",
    "close_code",
)
GROUP_PAGE: Final = 500


def servicenow_error(response: httpx.Response) -> str:
    """ServiceNow's own `{"error": {"message", "detail"}}`, or an empty string."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ""
    parts = [str(error[key]) for key in ("message", "detail") if error.get(key)]
    return ": ".join(parts)[:500]


SERVICENOW: Final = Wording(
    system="ServiceNow",
    noun="ServiceNow instance",
    kind="a ServiceNow instance",
    auth_failed="ServiceNow rejected the user name or password (401)",
    forbidden="The ServiceNow account lacks a permission the import needs (403)",
    rate_limited="ServiceNow kept rate-limiting the import",
    error_detail=servicenow_error,
)
CANNOT_READ_INCIDENTS: Final = (
    "The ServiceNow account cannot read incidents (403): "
    "give it a role that reads the incident table, such as itil"
)
CANNOT_READ_GROUPS: Final = (
    "The ServiceNow account cannot read assignment groups (403): "
    "it needs read access to sys_user_group"
)


@dataclass(frozen=True)
class TablePage:
    """Records of one Table API read and `X-Total-Count` (None when the instance omits it)."""

    records: list[dict[str, Any]]
    total: int | None


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


class ServiceNowClient:
    """Calls to one ServiceNow instance as one account."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        instance: str,
        username: str,
        password: SecretStr,
        policy: RetryPolicy | None = None,
    ) -> None:
        auth = httpx.BasicAuth(username, password.get_secret_value())
        self._api = ApiCaller(http, instance, auth, SERVICENOW, policy)

    @property
    def instance(self) -> str:
        """The instance root."""
        return self._api.site

    async def table(self, table: str, query: str, fields: tuple[str, ...], limit: int) -> TablePage:
        """`GET /api/now/table/{table}` with an encoded query; checks the body's shape."""
        path = f"/api/now/table/{table}"
        params = {
            "sysparm_query": query,
            "sysparm_fields": ",".join(fields),
            "sysparm_limit": str(limit),
            "sysparm_display_value": "false",
            "sysparm_exclude_reference_link": "true",
        }
        answer = await self._api.call("GET", path, params=params)
        body = answer.body
        result = body.get("result") if isinstance(body, dict) else None
        if not isinstance(result, list) or not all(isinstance(item, dict) for item in result):
            raise self._api.not_the_system(path, 'but without a {"result": [...]} list')
        return TablePage(result, _int(answer.headers.get("X-Total-Count")))

    async def find_user(self, username: str) -> list[dict[str, Any]]:
        """The account's own `sys_user` record (proves the password and the instance)."""
        page = await self.table("sys_user", f"user_name={username}", ("sys_id", "user_name"), 1)
        return page.records

    async def read_one_incident(self) -> None:
        """One incident read: proves the account may read the incident table."""
        try:
            await self.table("incident", "", ("sys_id",), 1)
        except Forbidden:
            raise Forbidden(CANNOT_READ_INCIDENTS) from None

    async def assignment_groups(self) -> list[dict[str, str]]:
        """Every `sys_user_group` as `{id, name}`, read in keyset pages by `sys_id`."""
        groups: list[dict[str, str]] = []
        after = ""
        while True:
            query = (f"sys_id>{after}^" if after else "") + "ORDERBYsys_id"
            try:
                page = await self.table("sys_user_group", query, ("sys_id", "name"), GROUP_PAGE)
            except Forbidden:
                raise Forbidden(CANNOT_READ_GROUPS) from None
            records = [r for r in page.records if isinstance(r.get("sys_id"), str) and r["sys_id"]]
            groups.extend({"id": r["sys_id"], "name": str(r.get("name") or "")} for r in records)
            if len(page.records) < GROUP_PAGE or not records:
                return groups
            after = records[-1]["sys_id"]

    async def count(self, table: str, query: str) -> int:
        """Records matching `query`: `X-Total-Count` of a one-record read, else the stats API."""
        page = await self.table(table, query, ("sys_id",), 1)
        if page.total is not None:
            return page.total
        path = f"/api/now/stats/{table}"
        body = (
            await self._api.call(
                "GET", path, params={"sysparm_count": "true", "sysparm_query": query}
            )
        ).body
        try:
            return int(body["result"]["stats"]["count"])
        except (KeyError, TypeError, ValueError):
            raise self._api.not_the_system(path, "but without a count") from None
