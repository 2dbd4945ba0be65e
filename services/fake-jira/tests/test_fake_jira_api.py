"""Response shapes of every endpoint, auth, and search paging, against a real loopback server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fake_jira.config import FakeJiraConfig
from fake_jira.testing import DEV_EMAIL, DEV_TOKEN, RunningFakeJira, running_fake_jira_server

JIRA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
API = "/rest/api/3"


@pytest.fixture(scope="module")
async def jira() -> AsyncIterator[RunningFakeJira]:
    config = FakeJiraConfig(
        issues=1500,
        seed=7,
        accounts=f"{DEV_EMAIL}:{DEV_TOKEN},viewer@example.com:viewer-token:nobrowse",
    )
    async with running_fake_jira_server(config) as running:
        yield running


@pytest.fixture
async def client(jira: RunningFakeJira) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=jira.base_url, auth=(DEV_EMAIL, DEV_TOKEN)) as http:
        yield http


async def test_myself_shape(client: httpx.AsyncClient, jira: RunningFakeJira) -> None:
    response = await client.get(f"{API}/myself")
    assert response.status_code == 200
    body = response.json()
    assert body["emailAddress"] == DEV_EMAIL
    assert re.fullmatch(r"[0-9a-f]{24}", body["accountId"])
    assert body["self"] == f"{jira.base_url}{API}/user?accountId={body['accountId']}"
    assert body["active"] is True
    assert {"displayName", "timeZone", "accountType", "avatarUrls"} <= body.keys()


async def test_project_search_pages(client: httpx.AsyncClient) -> None:
    first = (await client.get(f"{API}/project/search", params={"maxResults": 3})).json()
    assert first["startAt"] == 0
    assert first["maxResults"] == 3
    assert first["total"] == 4
    assert first["isLast"] is False
    assert len(first["values"]) == 3
    assert "startAt=3" in first["nextPage"]
    second = (await client.get(first["nextPage"])).json()
    assert second["isLast"] is True
    assert "nextPage" not in second
    keys = [p["key"] for p in first["values"] + second["values"]]
    assert keys == ["SUP", "OPS", "HR", "FAC"]
    project = first["values"][0]
    assert {"id", "key", "name", "self", "projectTypeKey", "avatarUrls"} <= project.keys()


async def test_issue_types_and_statuses(client: httpx.AsyncClient) -> None:
    types = (await client.get(f"{API}/issuetype")).json()
    assert [t["name"] for t in types][:2] == ["Incident", "Service Request"]
    assert all({"id", "name", "subtask", "hierarchyLevel", "self"} <= t.keys() for t in types)
    statuses = (await client.get(f"{API}/status")).json()
    assert {s["name"] for s in statuses} >= {"Open", "In Progress", "Resolved", "Closed"}
    category = statuses[0]["statusCategory"]
    assert {"id", "key", "colorName", "name"} <= category.keys()


async def test_search_issue_shape_with_fields_allow_list(client: httpx.AsyncClient) -> None:
    fields = (
        "summary,description,status,issuetype,priority,project,created,updated,reporter,"
        "assignee,labels"
    )
    response = await client.get(
        f"{API}/search/jql",
        params={"jql": "updated >= -30d ORDER BY updated ASC", "maxResults": 5, "fields": fields},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["isLast"] is False
    assert isinstance(body["nextPageToken"], str)
    issue = body["issues"][0]
    assert re.fullmatch(r"\d+", issue["id"])
    assert re.fullmatch(r"[A-Z]+-\d+", issue["key"])
    assert issue["self"].endswith(f"{API}/issue/{issue['id']}")
    got = issue["fields"]
    assert set(got) == set(fields.split(","))
    assert got["description"]["type"] == "doc"
    assert got["description"]["content"][0]["type"] == "paragraph"
    assert {"id", "name"} <= got["status"].keys()
    assert {"id", "name"} <= got["issuetype"].keys()
    assert {"key", "name"} <= got["project"].keys()
    assert JIRA_TIME.match(got["created"])
    assert JIRA_TIME.match(got["updated"])
    assert got["created"] <= got["updated"]
    assert isinstance(got["labels"], list)
    assert "accountId" in got["reporter"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (None, set()),
        (["summary,status"], {"summary", "status"}),
        (["summary", "status"], {"summary", "status"}),
        (["*navigable"], None),
        (["-description"], "navigable-minus"),
        (["*all,-comment"], None),
        (["*all"], "all"),
        (["summary,nosuchfield"], {"summary"}),
    ],
)
async def test_fields_semantics(
    client: httpx.AsyncClient, fields: list[str] | None, expected: Any
) -> None:
    params: list[tuple[str, str | int | float | bool | None]] = [
        ("jql", "project = SUP"),
        ("maxResults", 1),
    ]
    params += [("fields", value) for value in fields or []]
    got = set((await client.get(f"{API}/search/jql", params=params)).json()["issues"][0]["fields"])
    navigable = set(
        (
            await client.get(f"{API}/search/jql", params=[*params[:2], ("fields", "*navigable")])
        ).json()["issues"][0]["fields"]
    )
    assert "summary" in navigable
    assert "comment" not in navigable
    if expected is None:
        assert got == navigable
    elif expected == "navigable-minus":
        assert got == navigable - {"description"}
    elif expected == "all":
        assert got == navigable | {"comment"}
    else:
        assert got == expected


async def _all_pages(client: httpx.AsyncClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        payload = dict(body, nextPageToken=token) if token else body
        page = (await client.post(f"{API}/search/jql", json=payload)).json()
        issues += page["issues"]
        if page["isLast"]:
            assert "nextPageToken" not in page
            return issues
        token = page["nextPageToken"]


async def test_pagination_is_complete_without_duplicates(client: httpx.AsyncClient) -> None:
    jql = "updated >= -365d ORDER BY updated ASC"
    count = (await client.post(f"{API}/search/approximate-count", json={"jql": jql})).json()
    issues = await _all_pages(
        client, {"jql": jql, "maxResults": 100, "fields": ["updated", "summary"]}
    )
    ids = [issue["id"] for issue in issues]
    assert len(ids) == len(set(ids)) == count["count"] == 1500
    stamps = [issue["fields"]["updated"] for issue in issues]
    assert stamps == sorted(stamps)


async def test_get_pagination_and_page_size_cap(client: httpx.AsyncClient) -> None:
    ids: list[str] = []
    params: dict[str, Any] = {
        "jql": "project in (SUP, OPS)",
        "maxResults": 1000,
        "fields": "summary",
    }
    while True:
        page = (await client.get(f"{API}/search/jql", params=params)).json()
        assert len(page["issues"]) <= 100  # Jira caps large pages when fields are requested
        ids += [issue["id"] for issue in page["issues"]]
        if page["isLast"]:
            break
        params["nextPageToken"] = page["nextPageToken"]
    count = await client.post(
        f"{API}/search/approximate-count", json={"jql": "project in (SUP, OPS)"}
    )
    assert len(ids) == len(set(ids)) == count.json()["count"]


async def test_ids_only_pages_are_larger(client: httpx.AsyncClient) -> None:
    page = await client.get(
        f"{API}/search/jql", params={"jql": "project = OPS", "maxResults": 1000}
    )
    body = page.json()
    assert len(body["issues"]) > 100
    assert body["issues"][0]["fields"] == {}


async def test_bad_page_token_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{API}/search/jql", params={"jql": "project = OPS", "nextPageToken": "garbage"}
    )
    assert response.status_code == 400
    assert response.json()["errorMessages"]


async def test_bad_credentials_401(jira: RunningFakeJira) -> None:
    async with httpx.AsyncClient(base_url=jira.base_url) as http:
        for auth in ((DEV_EMAIL, "wrong"), ("nobody@example.com", DEV_TOKEN)):
            response = await http.get(f"{API}/myself", auth=auth)
            assert response.status_code == 401
            body = response.json()
            assert body["errorMessages"]
            assert body["errors"] == {}
            assert DEV_TOKEN not in response.text
        anonymous = await http.get(f"{API}/project/search")
        assert anonymous.status_code == 401
        bearer = await http.get(f"{API}/myself", headers={"Authorization": "Bearer x"})
        assert bearer.status_code == 401


async def test_account_without_browse_permission_403(jira: RunningFakeJira) -> None:
    auth = ("viewer@example.com", "viewer-token")
    async with httpx.AsyncClient(base_url=jira.base_url, auth=auth) as http:
        assert (await http.get(f"{API}/myself")).status_code == 200
        for path in ("project/search", "issuetype", "status", "search/jql?jql=project=SUP"):
            response = await http.get(f"{API}/{path}")
            assert response.status_code == 403, path
            assert response.json()["errorMessages"]
        count = await http.post(f"{API}/search/approximate-count", json={"jql": "project = SUP"})
        assert count.status_code == 403


async def test_unknown_rest_path_is_jira_style_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/nosuchthing")
    assert response.status_code == 404
    assert response.json()["errorMessages"]


async def test_health_and_metric_samples(jira: RunningFakeJira) -> None:
    status_200 = re.compile(
        r'^fake_jira_requests_total\{endpoint="GET /rest/api/3/status",status="200"\} (\d+)\.0$',
        re.MULTILINE,
    )
    denied = re.compile(
        r'^fake_jira_requests_total\{endpoint="GET /rest/api/3/status",status="401"\} (\d+)\.0$',
        re.MULTILINE,
    )

    def sample(pattern: re.Pattern[str], text: str) -> int:
        found = pattern.search(text)
        return int(found.group(1)) if found else 0

    async with httpx.AsyncClient(base_url=jira.base_url) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        assert (await http.get("/readyz")).json() == {"status": "ready", "issues": 1500}
        before = (await http.get("/metrics")).text
        for _ in range(3):
            ok = await http.get(f"{API}/status", auth=(DEV_EMAIL, DEV_TOKEN))
            assert ok.status_code == 200
        assert (await http.get(f"{API}/status")).status_code == 401
        after = (await http.get("/metrics")).text
        assert sample(status_200, after) == sample(status_200, before) + 3
        assert sample(denied, after) == sample(denied, before) + 1
