"""The JQL subset: filters, ordering, and 400s for everything else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from emulator.seeding import DAY_MS
from fake_jira.config import FakeJiraConfig
from fake_jira.dataset import generate
from fake_jira.jql import JqlError, parse
from fake_jira.search import SearchEngine
from fake_jira.testing import DEV_EMAIL, DEV_TOKEN, running_fake_jira

ANCHOR = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
NOW_MS = int(ANCHOR.timestamp() * 1000)
DATASET = generate(seed=3, issues=3000, projects=4, days=365, anchor=ANCHOR)
API = "/rest/api/3"


def run(jql: str) -> list[int]:
    return [issue.id for issue in SearchEngine(DATASET).results(parse(jql, DATASET, now_ms=NOW_MS))]


def test_relative_updated_filter() -> None:
    cutoff = NOW_MS - 30 * DAY_MS
    expected = {i.id for i in DATASET.issues if i.updated_ms >= cutoff}
    assert set(run("updated >= -30d")) == expected
    assert 0 < len(expected) < len(DATASET.issues)
    assert set(run("updated >= -4w")) == {
        i.id for i in DATASET.issues if i.updated_ms >= NOW_MS - 28 * DAY_MS
    }


def test_absolute_date_filters() -> None:
    bound = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp() * 1000)
    expected = {i.id for i in DATASET.issues if i.updated_ms >= bound}
    assert set(run('updated >= "2026-03-01"')) == expected
    assert set(run("updated >= 2026/03/01")) == expected
    assert set(run('created < "2026-03-01 00:00"')) == {
        i.id for i in DATASET.issues if i.created_ms < bound
    }


def test_project_filters_by_key_name_or_id() -> None:
    sup = {i.id for i in DATASET.issues if i.project == 0}
    ops = {i.id for i in DATASET.issues if i.project == 1}
    assert set(run("project = SUP")) == sup
    assert set(run('project = "IT Support"')) == sup
    assert set(run("project = 10000")) == sup
    assert set(run("project in (SUP, ops)")) == sup | ops
    assert set(run("project not in (SUP)")) == {i.id for i in DATASET.issues} - sup
    assert set(run("project != SUP")) == {i.id for i in DATASET.issues} - sup


def test_and_combines_clauses() -> None:
    cutoff = NOW_MS - 90 * DAY_MS
    expected = {i.id for i in DATASET.issues if i.project in (0, 2) and i.updated_ms >= cutoff}
    assert set(run("project in (SUP, HR) AND updated >= -90d")) == expected
    assert set(run("project in (SUP, HR) and updated >= -90d and status = Open")) == {
        i.id for i in DATASET.issues if i.id in expected and i.status == 0
    }
    assert set(run('issuetype = "Incident" AND project = SUP')) == {
        i.id for i in DATASET.issues if i.issue_type == 0 and i.project == 0
    }


def test_ordering() -> None:
    by_id = {i.id: i for i in DATASET.issues}
    ascending = run("updated >= -365d ORDER BY updated ASC")
    assert [by_id[i].updated_ms for i in ascending] == sorted(i.updated_ms for i in DATASET.issues)
    descending = run("updated >= -365d ORDER BY updated DESC")
    assert [by_id[i].updated_ms for i in descending] == sorted(
        (i.updated_ms for i in DATASET.issues), reverse=True
    )
    keyed = run("project in (SUP, OPS) ORDER BY key")
    pairs = [(DATASET.projects[by_id[i].project][0], by_id[i].number) for i in keyed]
    assert pairs == sorted(pairs)
    default = run("project = SUP")
    assert default == sorted(default, reverse=True)  # newest first


@pytest.mark.parametrize(
    "jql",
    [
        "",
        "ORDER BY updated ASC",
        "summary ~ printer",
        "foo = bar",
        "project = SUP OR project = OPS",
        "(project = SUP)",
        "NOT project = SUP",
        "project = NOPE",
        "project in (SUP, NOPE)",
        'updated >= "31.12.2026"',
        "updated ~ -5d",
        "project = SUP ORDER BY priority",
        "project = SUP ORDER updated",
        "project in SUP",
        "project =",
        "project = SUP AND",
        "status = Sleeping",
    ],
)
def test_unsupported_or_invalid_jql_is_rejected(jql: str) -> None:
    with pytest.raises(JqlError):
        SearchEngine(DATASET).parse_bounded(jql, now_ms=NOW_MS)


@pytest.fixture(scope="module")
async def base_url() -> AsyncIterator[str]:
    async with running_fake_jira(FakeJiraConfig(issues=400, seed=5)) as url:
        yield url


@pytest.mark.parametrize(
    ("jql", "fragment"),
    [
        ("summary ~ printer", "not supported"),
        ("project = SUP OR project = OPS", "OR"),
        ("project = NOPE", "does not exist for the field 'project'"),
        ("nosuchfield = 1", "does not exist"),
        ("", "Unbounded"),
    ],
)
async def test_http_400_with_error_messages(base_url: str, jql: str, fragment: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, auth=(DEV_EMAIL, DEV_TOKEN)) as http:
        for response in (
            await http.get(f"{API}/search/jql", params={"jql": jql}),
            await http.post(f"{API}/search/jql", json={"jql": jql}),
            await http.post(f"{API}/search/approximate-count", json={"jql": jql}),
        ):
            assert response.status_code == 400
            body = response.json()
            assert body["errors"] == {}
            assert any(fragment in message for message in body["errorMessages"])


async def test_http_count_matches_paged_search(base_url: str) -> None:
    jql = "project in (SUP, OPS) AND updated >= -120d ORDER BY updated ASC"
    async with httpx.AsyncClient(base_url=base_url, auth=(DEV_EMAIL, DEV_TOKEN)) as http:
        count = (await http.post(f"{API}/search/approximate-count", json={"jql": jql})).json()
        page = await http.post(f"{API}/search/jql", json={"jql": jql, "maxResults": 5000})
        keys = [issue["key"] for issue in page.json()["issues"]]
    assert count["count"] == len(keys) > 0
    assert {key.split("-")[0] for key in keys} <= {"SUP", "OPS"}
