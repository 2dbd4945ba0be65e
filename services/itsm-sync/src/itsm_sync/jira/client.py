"""Jira Cloud REST API v3 calls used by itsm-sync, with bounded, Retry-After-aware retries.

One shared `httpx.AsyncClient` serves every site and account: the site root and Basic auth are
given per call, so a connection pool is reused across runs. Redirects are not followed (a Jira REST
call never redirects; a login page that does is "not Jira", and the token must not follow it).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any, Final

import httpx
import structlog
from pydantic import SecretStr
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from contracts import UnsafeUrlError
from itsm_sync.jira.errors import (
    JiraAuthError,
    JiraBadRequest,
    JiraNetworkError,
    JiraPermissionError,
    JiraRateLimited,
    JiraServerError,
    JiraUnsafeUrl,
    NotJiraSite,
    jira_error_messages,
    transport_error,
)
from itsm_sync.metrics import JIRA_REQUESTS, JIRA_RETRIES

log = structlog.get_logger(__name__)

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
_TRANSIENT_STATUSES: Final = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry (attempts are per call)."""

    max_retries: int = 5
    max_rate_limit_retries: int = 30
    max_backoff: float = 30.0
    base_backoff: float = 0.25


@dataclass(frozen=True)
class SearchPage:
    """One page of `/search/jql`."""

    issues: list[dict[str, Any]]
    next_page_token: str | None
    is_last: bool


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


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
        self._http = http
        self._site = base_url.rstrip("/")
        self._auth = httpx.BasicAuth(email, api_token.get_secret_value())
        self._policy = policy or RetryPolicy()
        self._not_before = 0.0

    @property
    def site(self) -> str:
        """The site root."""
        return self._site

    def _stop(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        limit = (
            self._policy.max_rate_limit_retries
            if isinstance(exc, JiraRateLimited)
            else self._policy.max_retries
        )
        return state.attempt_number > limit

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        cap = self._policy.max_backoff
        if isinstance(exc, JiraRateLimited) and exc.retry_after is not None:
            # Jira says when; a little jitter keeps parallel runs from retrying in lockstep.
            return min(cap, exc.retry_after + random.uniform(0, 0.1))  # noqa: S311
        exponential = self._policy.base_backoff * 2 ** (state.attempt_number - 1)
        return random.uniform(0, min(cap, exponential))  # noqa: S311 - full jitter

    async def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        kind = "rate_limited" if isinstance(exc, JiraRateLimited) else "transient"
        JIRA_RETRIES.labels(kind=kind).inc()
        log.info("jira_retry", kind=kind, attempt=state.attempt_number, error=str(exc))

    async def _pace(self) -> None:
        delay = self._not_before - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def _note_limits(self, response: httpx.Response) -> None:
        # Near the burst limit, Jira says so; spacing calls by 1/limit s avoids a 429 (which
        # costs a whole Retry-After second) while keeping close to the allowed rate.
        headers = response.headers
        near = headers.get("X-RateLimit-NearLimit", "").lower() == "true"
        try:
            limit = float(headers.get("X-RateLimit-Limit", "0"))
        except ValueError:
            limit = 0.0
        if near and limit > 0:
            self._not_before = time.monotonic() + 1.0 / limit

    async def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        await self._pace()
        try:
            response = await self._http.request(
                method, self._site + path, auth=self._auth, follow_redirects=False, **kwargs
            )
        except httpx.TransportError as exc:
            JIRA_REQUESTS.labels(outcome="network_error").inc()
            # Connection-level failures are transient: retried, then `unreachable`.
            raise transport_error(exc, self._site) from None
        except UnsafeUrlError as exc:
            # Raised by the connect-time SSRF check (`netguard`), with the verify-time wording.
            JIRA_REQUESTS.labels(outcome="refused").inc()
            raise JiraUnsafeUrl(f"The Jira URL may not be called: {exc}") from None
        JIRA_REQUESTS.labels(outcome=str(response.status_code)).inc()
        self._note_limits(response)
        return self._decode(response, path)

    def _decode(self, response: httpx.Response, path: str) -> Any:
        status = response.status_code
        if status == 429:
            raise JiraRateLimited("Jira kept rate-limiting the import", _retry_after(response))
        if status in _TRANSIENT_STATUSES:
            raise JiraServerError(f"The Jira site {self._site} answered {status}")
        if status == 401:
            raise JiraAuthError("Jira rejected the email or API token (401)")
        if status == 403:
            raise JiraPermissionError(
                "The Jira account lacks the permission needed (403): "
                "it must be able to browse the projects to import"
            )
        if status == 400:
            detail = jira_error_messages(response) or "bad request"
            raise JiraBadRequest(f"Jira refused the request: {detail}")
        if status >= 300 or "json" not in response.headers.get("content-type", ""):
            raise NotJiraSite(
                f"{self._site} does not look like a Jira Cloud site "
                f"({path} answered {status} {response.headers.get('content-type', 'no type')})"
            )
        try:
            return response.json()
        except ValueError:
            raise NotJiraSite(f"{self._site} answered {path} with invalid JSON") from None

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((JiraRateLimited, JiraServerError, JiraNetworkError)),
            stop=self._stop,
            wait=self._wait,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._send(method, path, **kwargs)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def _call_object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body = await self._call(method, path, **kwargs)
        if not isinstance(body, dict):
            raise NotJiraSite(f"{self._site} answered {path}, but not like Jira")
        return body

    async def _call_list(self, path: str) -> list[dict[str, Any]]:
        body = await self._call("GET", path)
        if not _objects(body):
            raise NotJiraSite(f"{self._site} answered {path}, but not like Jira")
        return list(body)

    async def myself(self) -> dict[str, Any]:
        """`GET /myself`: proves the credentials; raises `NotJiraSite` if not Jira."""
        body = await self._call("GET", "/rest/api/3/myself")
        if not isinstance(body, dict) or "accountId" not in body:
            raise NotJiraSite(f"{self._site} answered /rest/api/3/myself, but not like Jira")
        return body

    async def projects(self) -> list[dict[str, Any]]:
        """Every project the account can browse (`/project/search`, paginated)."""
        found: list[dict[str, Any]] = []
        start = 0
        while True:
            path = "/rest/api/3/project/search"
            body = await self._call_object("GET", path, params={"startAt": start, "maxResults": 50})
            values = body.get("values") or []
            if not _objects(values):
                raise NotJiraSite(f"{self._site} answered {path}, but not like Jira")
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
        body = await self._call_object("POST", "/rest/api/3/search/jql", json=request)
        token = body.get("nextPageToken") or None
        is_last = bool(body.get("isLast", token is None)) or token is None
        return SearchPage(list(body.get("issues") or []), token, is_last)
