"""REST v2 beside v3 (plain-text rich text), the offset-paged /search, one issue, fields,
projects, server info, epoch-millisecond JQL dates, and the gate on search pages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from fake_jira.config import FakeJiraConfig
from fake_jira.testing import DEV_EMAIL, DEV_TOKEN, RunningFakeJira, running_fake_jira_server

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
ISSUES = 700


@pytest.fixture(scope="module")
async def jira() -> AsyncIterator[RunningFakeJira]:
    async with running_fake_jira_server(FakeJiraConfig(issues=ISSUES, seed=5, now=NOW)) as running:
        yield running


@pytest.fixture
async def client(jira: RunningFakeJira) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=jira.base_url, auth=(DEV_EMAIL, DEV_TOKEN)) as http:
        yield http


def adf_text(document: dict[str, Any]) -> str:
    return "\n\n".join(
        node["text"] for paragraph in document["content"] for node in paragraph["content"]
    )


@pytest.mark.parametrize("version", [2, 3])
async def test_server_info_myself_projects_fields(
    client: httpx.AsyncClient, jira: RunningFakeJira, version: int
) -> None:
    api = f"/rest/api/{version}"
    info = (await client.get(f"{api}/serverInfo")).json()
    assert info["deploymentType"] == "Cloud"
    assert info["baseUrl"] == jira.base_url
    assert info["versionNumbers"] == [1001, 0, 0]
    assert info["serverTime"].startswith("2026-11-30T12:")
    async with httpx.AsyncClient(base_url=jira.base_url) as anonymous:
        assert (await anonymous.get(f"{api}/serverInfo")).status_code == 200
    me = (await client.get(f"{api}/myself")).json()
    assert me["emailAddress"] == DEV_EMAIL
    assert me["self"].startswith(f"{jira.base_url}{api}/user?accountId=")
    projects = (await client.get(f"{api}/project")).json()
    assert [p["key"] for p in projects] == ["SUP", "OPS", "HR", "FAC"]
    assert projects[0]["self"] == f"{jira.base_url}{api}/project/10000"
    one = (await client.get(f"{api}/project/OPS")).json()
    assert (one["id"], one["name"]) == ("10001", "Operations")
    assert [t["name"] for t in one["issueTypes"]][:2] == ["Incident", "Service Request"]
    assert (await client.get(f"{api}/project/10002")).json()["key"] == "HR"
    missing = await client.get(f"{api}/project/NOPE")
    assert missing.status_code == 404
    assert missing.json()["errorMessages"]
    fields = (await client.get(f"{api}/field")).json()
    by_id = {f["id"]: f for f in fields}
    assert {"summary", "description", "status", "updated", "comment", "issuekey"} <= set(by_id)
    assert by_id["summary"]["name"] == "Summary"
    assert by_id["summary"]["schema"] == {"type": "string", "system": "summary"}
    assert not any(f["custom"] for f in fields)


async def test_v2_renders_rich_text_as_strings_where_v3_uses_adf(
    client: httpx.AsyncClient, jira: RunningFakeJira
) -> None:
    issue = next(i for i in jira.state.dataset.issues if i.id % 3 == 2)  # two comments
    v3 = (await client.get(f"/rest/api/3/issue/{issue.key}")).json()
    v2 = (await client.get(f"/rest/api/2/issue/{issue.key}")).json()
    assert v3["key"] == v2["key"] == issue.key
    assert v3["id"] == v2["id"] == str(issue.id)
    assert v3["fields"]["description"]["type"] == "doc"
    assert isinstance(v2["fields"]["description"], str)
    assert v2["fields"]["description"] == adf_text(v3["fields"]["description"])
    assert v2["fields"]["description"].startswith(f"{issue.summary}. Reported by ")
    comments3, comments2 = v3["fields"]["comment"], v2["fields"]["comment"]
    assert comments3["total"] == comments2["total"] == 2
    for c3, c2 in zip(comments3["comments"], comments2["comments"], strict=True):
        assert c3["id"] == c2["id"]
        assert isinstance(c2["body"], str)
        assert c2["body"] == adf_text(c3["body"])
    assert v2["self"] == f"{jira.base_url}/rest/api/2/issue/{issue.id}"
    assert v2["fields"]["summary"] == issue.summary
    by_id = await client.get(f"/rest/api/2/issue/{issue.id}", params={"fields": "summary"})
    assert by_id.json()["fields"] == {"summary": issue.summary}
    missing = await client.get("/rest/api/2/issue/SUP-999999")
    assert missing.status_code == 404
    assert missing.json()["errorMessages"] == [
        "Issue does not exist or you do not have permission to see it."
    ]


@pytest.mark.parametrize(("version", "method"), [(2, "GET"), (3, "GET"), (3, "POST"), (2, "POST")])
async def test_offset_search_pages_with_total(
    client: httpx.AsyncClient, jira: RunningFakeJira, version: int, method: str
) -> None:
    since = NOW.timestamp() * 1000 - 120 * 86_400_000
    jql = f"updated >= {int(since)} ORDER BY updated ASC"
    expected = sorted(
        (i for i in jira.state.dataset.issues if i.updated_ms >= since),
        key=lambda i: (i.updated_ms, i.id),
    )
    assert 0 < len(expected) < ISSUES
    seen: list[str] = []
    start = 0
    while True:
        if method == "GET":
            response = await client.get(
                f"/rest/api/{version}/search",
                params={
                    "jql": jql,
                    "startAt": start,
                    "maxResults": 90,
                    "fields": "summary,updated",
                },
            )
        else:
            response = await client.post(
                f"/rest/api/{version}/search",
                json={"jql": jql, "startAt": start, "maxResults": 90, "fields": ["summary"]},
            )
        body = response.json()
        assert response.status_code == 200, body
        assert body["total"] == len(expected)
        assert body["startAt"] == start
        assert body["maxResults"] == 90
        seen += [issue["key"] for issue in body["issues"]]
        start += len(body["issues"])
        if start >= body["total"]:
            break
    assert seen == [i.key for i in expected]


async def test_offset_search_defaults_and_caps(client: httpx.AsyncClient) -> None:
    body = (await client.get("/rest/api/2/search", params={"jql": "project = SUP"})).json()
    assert body["maxResults"] == 50
    assert len(body["issues"]) == 50
    first = body["issues"][0]["fields"]
    assert "summary" in first
    assert "comment" not in first  # navigable fields by default
    assert isinstance(first["description"], str)
    capped = await client.get("/rest/api/3/search", params={"jql": "", "maxResults": 1000})
    assert capped.json()["maxResults"] == 100
    assert capped.json()["total"] == ISSUES  # unbounded JQL is allowed on /search
    only_total = await client.get("/rest/api/3/search", params={"jql": "", "maxResults": 0})
    assert only_total.json()["issues"] == []
    bad = await client.get("/rest/api/3/search", params={"jql": "updated >= yesterday"})
    assert bad.status_code == 400
    assert bad.json()["errorMessages"]


async def test_epoch_millisecond_dates_match_absolute_dates(
    client: httpx.AsyncClient, jira: RunningFakeJira
) -> None:
    stamp = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp() * 1000)
    by_ms = await client.post(
        "/rest/api/3/search/approximate-count", json={"jql": f"updated >= {stamp}"}
    )
    by_day = await client.post(
        "/rest/api/3/search/approximate-count", json={"jql": 'updated >= "2026-10-01"'}
    )
    expected = sum(1 for i in jira.state.dataset.issues if i.updated_ms >= stamp)
    assert by_ms.json() == by_day.json() == {"count": expected}


async def test_gate_holds_search_pages_until_released(
    client: httpx.AsyncClient, jira: RunningFakeJira
) -> None:
    closed = await client.post("/_admin/gate/close", json={"after": 1})
    assert closed.json()["closed"] is True
    try:
        query: dict[str, str | int] = {
            "jql": "project = OPS",
            "maxResults": 10,
            "fields": "summary",
        }
        first = await client.get("/rest/api/3/search/jql", params=query)
        assert len(first.json()["issues"]) == 10
        assert (await client.get("/rest/api/3/myself")).status_code == 200  # not a page
        held = asyncio.create_task(
            client.get(
                "/rest/api/3/search/jql",
                params=query | {"nextPageToken": first.json()["nextPageToken"]},
            )
        )
        waiting = await client.get("/_admin/gate/held", params={"timeout": 30})
        assert waiting.json()["waiting"] == 1
        assert not held.done()
        await client.post("/_admin/gate/open")
        second = (await held).json()["issues"]
        assert len(second) == 10
        assert {i["key"] for i in second}.isdisjoint({i["key"] for i in first.json()["issues"]})
    finally:
        await client.post("/_admin/gate/open")
