"""Unit tests of the Jira client's retries and error mapping (httpx.MockTransport)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from pydantic import SecretStr

from contracts import ErrorCode
from itsm_sync.connectors.errors import AuthFailed, Forbidden, NotTheSystem, Unavailable
from itsm_sync.connectors.http import RetryPolicy
from itsm_sync.connectors.jira import JiraClient

FAST = RetryPolicy(max_retries=2, max_rate_limit_retries=5, max_backoff=0.05, base_backoff=0.001)
TOKEN = "unit-test-token-1234567890"
Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler, policy: RetryPolicy = FAST) -> JiraClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return JiraClient(http, "https://acme.atlassian.net", "a@b.co", SecretStr(TOKEN), policy)


def page(issues: int, token: str | None) -> httpx.Response:
    body = {
        "issues": [{"id": str(i), "key": f"IT-{i}", "fields": {}} for i in range(issues)],
        "isLast": token is None,
    }
    if token:
        body["nextPageToken"] = token
    return httpx.Response(200, json=body)


async def test_429_is_retried_after_retry_after() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            return httpx.Response(429, headers={"Retry-After": "0"}, json={})
        return page(2, None)

    result = await make_client(handler).search_page("updated >= -30d", None, 100)
    assert len(calls) == 3
    assert len(result.issues) == 2
    assert result.is_last


async def test_transient_5xx_is_retried_a_bounded_number_of_times() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, text="busy")

    with pytest.raises(Unavailable) as caught:
        await make_client(handler).myself()
    assert len(calls) == 3  # the first try and two retries
    assert caught.value.code == ErrorCode.UNREACHABLE


async def test_rate_limit_storm_that_never_ends_fails_readably() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "0"})

    with pytest.raises(Unavailable, match="rate-limiting"):
        await make_client(handler).approximate_count("updated >= -30d")


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (401, AuthFailed, ErrorCode.AUTH_FAILED),
        (403, Forbidden, ErrorCode.FORBIDDEN),
    ],
)
async def test_auth_failures_map_to_codes(
    status: int, error: type[Exception], code: ErrorCode
) -> None:
    client = make_client(lambda request: httpx.Response(status, json={"errorMessages": []}))
    with pytest.raises(error) as caught:
        await client.myself()
    assert getattr(caught.value, "code", None) == code
    assert TOKEN not in str(caught.value)


async def test_a_site_that_is_not_jira_is_named_clearly() -> None:
    client = make_client(lambda request: httpx.Response(200, html="<html>hello</html>"))
    with pytest.raises(NotTheSystem, match="does not look like a Jira Cloud site"):
        await client.myself()


async def test_connection_failure_is_instance_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(Unavailable, match="Could not connect") as caught:
        await make_client(handler).myself()
    assert caught.value.code == ErrorCode.UNREACHABLE


async def test_search_sends_the_fields_allow_list_and_token() -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        import json

        seen.append(json.loads(request.content))
        assert request.headers["authorization"].startswith("Basic ")
        return page(1, "next-1")

    result = await make_client(handler).search_page("updated >= -30d", "tok-0", 100)
    assert seen[0]["nextPageToken"] == "tok-0"
    assert "summary" in seen[0]["fields"]  # type: ignore[operator]
    assert result.next_page_token == "next-1"
    assert not result.is_last


async def test_projects_are_paged_until_is_last() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["startAt"])
        values = [{"key": f"P{start + i}", "name": "x"} for i in range(2)]
        return httpx.Response(200, json={"values": values, "isLast": start >= 2})

    projects = await make_client(handler).projects()
    assert [p["key"] for p in projects] == ["P0", "P1", "P2", "P3"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/rest/api/3/project/search", [{"key": "IT"}]),
        ("/rest/api/3/issuetype", {"values": []}),
        ("/rest/api/3/status", "ok"),
        ("/rest/api/3/search/approximate-count", [1]),
        ("/rest/api/3/search/jql", ["issue"]),
    ],
)
async def test_json_of_the_wrong_shape_is_not_jira(path: str, body: object) -> None:
    # Anything but NotTheSystem escapes the verify/sync handlers and no status is ever published.
    client = make_client(lambda request: httpx.Response(200, json=body))
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "/rest/api/3/project/search": client.projects,
        "/rest/api/3/issuetype": client.issue_types,
        "/rest/api/3/status": client.statuses,
        "/rest/api/3/search/approximate-count": lambda: client.approximate_count("x"),
        "/rest/api/3/search/jql": lambda: client.search_page("x", None, 10),
    }
    with pytest.raises(NotTheSystem, match="not like Jira"):
        await calls[path]()
