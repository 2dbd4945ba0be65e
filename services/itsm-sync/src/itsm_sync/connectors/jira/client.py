"""Jira Cloud REST API v3 calls used by itsm-sync (over the shared `ApiCaller`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import httpx
from pydantic import SecretStr

from itsm_sync.connectors.http import ApiCaller, RetryPolicy, Wording

# Fields stored per ticket: what clustering needs, nothing more (smaller pages, faster import).
TICKET_FIELDS: Final = (
    "summary",
    "description",
    "status",
    "issuetype",
    "priority",
    "project",
    "labels",
    "created",
    "updated",
    "resolution",
    "resolutiondate",
)


def jira_error_messages(response: httpx.Response) -> str:
    """Jira's own `errorMessages`/`errors`, joined, or an empty string."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [str(item) for item in body.get("errorMessages") or [] if item]
    errors = body.get("errors")
    if isinstance(errors, dict):
        parts.extend(f"{key}: {value}" for key, value in errors.items())
    return "; ".join(parts)[:500]


JIRA: Final = Wording(
    system="Jira",
    noun="Jira site",
    kind="a Jira Cloud site",
    auth_failed="Jira rejected the email or API token (401)",
    forbidden=(
        "The Jira account lacks the permission needed (403): "
        "it must be able to browse the projects to import"
    ),
    rate_limited="Jira kept rate-limiting the import",
    error_detail=jira_error_messages,
)


@dataclass(frozen=True)
class SearchPage:
    """One page of `/search/jql`."""

    issues: list[dict[str, Any]]
    next_page_token: str | None
    is_last: bool


def _objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


class JiraClient:
    """Calls to one Jira site as one account."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        email: str,
        api_token: SecretStr,
        policy: RetryPolicy | None = None,
    ) -> None:
        auth = httpx.BasicAuth(email, api_token.get_secret_value())
        self._api = ApiCaller(http, base_url, auth, JIRA, policy)

    @property
    def site(self) -> str:
        """The site root."""
        return self._api.site

    async def _call_object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body = (await self._api.call(method, path, **kwargs)).body
        if not isinstance(body, dict):
            raise self._api.not_the_system(path, "but not like Jira")
        return body

    async def _call_list(self, path: str) -> list[dict[str, Any]]:
        body = (await self._api.call("GET", path)).body
        if not _objects(body):
            raise self._api.not_the_system(path, "but not like Jira")
        return list(body)

    async def myself(self) -> dict[str, Any]:
        """`GET /myself`: proves the credentials; raises `NotTheSystem` if not Jira."""
        path = "/rest/api/3/myself"
        body = (await self._api.call("GET", path)).body
        if not isinstance(body, dict) or "accountId" not in body:
            raise self._api.not_the_system(path, "but not like Jira")
        return body

    async def projects(self) -> list[dict[str, Any]]:
        """Every project the account can browse (`/project/search`, paginated)."""
        found: list[dict[str, Any]] = []
        start = 0
        path = "/rest/api/3/project/search"
        while True:
            body = await self._call_object("GET", path, params={"startAt": start, "maxResults": 50})
            values = body.get("values") or []
            if not _objects(values):
                raise self._api.not_the_system(path, "but not like Jira")
            found.extend(values)
            start += len(values)
            if body.get("isLast", True) or not values:
                return found

    async def issue_types(self) -> list[dict[str, Any]]:
        """`GET /issuetype`."""
        return await self._call_list("/rest/api/3/issuetype")

    async def statuses(self) -> list[dict[str, Any]]:
        """`GET /status`."""
        return await self._call_list("/rest/api/3/status")

    async def approximate_count(self, jql: str) -> int:
        """`POST /search/approximate-count`."""
        path = "/rest/api/3/search/approximate-count"
        body = await self._call_object("POST", path, json={"jql": jql})
        return int(body.get("count", 0))

    async def search_page(
        self, jql: str, next_page_token: str | None, max_results: int
    ) -> SearchPage:
        """One page of `POST /search/jql` with the ticket fields allow-list."""
        request: dict[str, Any] = {
            "jql": jql,
            "maxResults": max_results,
            "fields": list(TICKET_FIELDS),
        }
        if next_page_token:
            request["nextPageToken"] = next_page_token
        path = "/rest/api/3/search/jql"
        body = await self._call_object("POST", path, json=request)
        issues = body.get("issues") or []
        if not _objects(issues):
            raise self._api.not_the_system(path, "but not like Jira")
        token = body.get("nextPageToken") or None
        is_last = bool(body.get("isLast", token is None)) or token is None
        return SearchPage(list(issues), token, is_last)
