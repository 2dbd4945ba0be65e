"""Table API shapes, encoded queries, paging headers, auth and errors, on a loopback server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fake_servicenow.testing import (
    DEV_PASSWORD,
    DEV_USER,
    NO_INCIDENTS_PASSWORD,
    NO_INCIDENTS_USER,
    RunningFakeServiceNow,
    running_fake_servicenow,
)

SNOW_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
TABLE = "/api/now/table"
INCIDENTS = 600
NOW = "2026-11-30T12:00:00Z"


@pytest.fixture(scope="module")
async def snow() -> AsyncIterator[RunningFakeServiceNow]:
    async with running_fake_servicenow(incidents=INCIDENTS, seed=7, now=NOW) as running:
        yield running


@pytest.fixture
async def client(snow: RunningFakeServiceNow) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=snow.base_url, auth=(DEV_USER, DEV_PASSWORD)) as http:
        yield http


def incidents(snow: RunningFakeServiceNow) -> list[dict[str, str]]:
    return snow.state.dataset.tables["incident"]


def links(response: httpx.Response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>;rel="(\w+)"', response.headers["Link"])}


async def test_incident_list_shape(client: httpx.AsyncClient, snow: RunningFakeServiceNow) -> None:
    response = await client.get(f"{TABLE}/incident", params={"sysparm_limit": 5})
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == str(INCIDENTS)
    body = response.json()
    assert list(body) == ["result"]
    first = body["result"][0]
    assert first["number"] == "INC0010001"
    assert re.fullmatch(r"[0-9a-f]{32}", first["sys_id"])
    assert SNOW_TIME.match(first["sys_updated_on"])
    assert SNOW_TIME.match(first["sys_created_on"])
    assert first["state"] in {"1", "2", "3", "6", "7", "8"}
    assert first["priority"] in {"1", "2", "3", "4", "5"}
    group = first["assignment_group"]
    assert group["link"] == f"{snow.base_url}{TABLE}/sys_user_group/{group['value']}"
    assert snow.state.lookup("sys_user_group", group["value"]) is not None
    assert {"short_description", "description", "caller_id", "opened_at"} <= first.keys()
    rels = links(response)
    assert set(rels) == {"first", "next", "last"}
    assert "sysparm_offset=5" in rels["next"]
    assert "sysparm_offset=595" in rels["last"]


async def test_offset_paging_follows_links_to_the_end(
    client: httpx.AsyncClient, snow: RunningFakeServiceNow
) -> None:
    url: str | None = f"{snow.base_url}{TABLE}/incident?sysparm_limit=70&sysparm_fields=number"
    seen: list[str] = []
    pages = 0
    while url:
        response = await client.get(url)
        seen += [row["number"] for row in response.json()["result"]]
        rels = links(response)
        if pages:
            assert "prev" in rels
        url = rels.get("next")
        pages += 1
    assert pages == 9
    assert seen == [row["number"] for row in incidents(snow)]


async def test_fields_and_excluded_reference_links(
    client: httpx.AsyncClient, snow: RunningFakeServiceNow
) -> None:
    params: dict[str, str | int] = {
        "sysparm_fields": "number,assignment_group,assigned_to,nosuchfield",
        "sysparm_exclude_reference_link": "true",
        "sysparm_limit": 50,
    }
    rows = (await client.get(f"{TABLE}/incident", params=params)).json()["result"]
    expected = incidents(snow)[:50]
    assert [list(row) for row in rows] == [["number", "assignment_group", "assigned_to"]] * 50
    assert [row["assignment_group"] for row in rows] == [r["assignment_group"] for r in expected]
    assert [row["assigned_to"] for row in rows] == [r["assigned_to"] for r in expected]


async def test_display_values(client: httpx.AsyncClient, snow: RunningFakeServiceNow) -> None:
    record = incidents(snow)[0]
    group = snow.state.lookup("sys_user_group", record["assignment_group"])
    assert group is not None
    labels = {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed"}
    labels["8"] = "Canceled"
    fields = "number,state,assignment_group,assignment_group.name"
    shown = (
        await client.get(
            f"{TABLE}/incident/{record['sys_id']}",
            params={"sysparm_fields": fields, "sysparm_display_value": "true"},
        )
    ).json()["result"]
    assert shown["state"] == labels[record["state"]]
    assert shown["assignment_group"]["display_value"] == group["name"]
    assert shown["assignment_group.name"] == group["name"]
    both = (
        await client.get(
            f"{TABLE}/incident/{record['sys_id']}",
            params={"sysparm_fields": fields, "sysparm_display_value": "all"},
        )
    ).json()["result"]
    assert both["state"] == {"display_value": labels[record["state"]], "value": record["state"]}
    assert both["assignment_group"]["value"] == group["sys_id"]
    assert both["assignment_group"]["display_value"] == group["name"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=2", lambda r: r["state"] == "2"),
        ("state!=7", lambda r: r["state"] != "7"),
        ("priorityIN1,2", lambda r: r["priority"] in ("1", "2")),
        ("priorityNOT IN1,2", lambda r: r["priority"] not in ("1", "2")),
        ("sys_updated_on>=2026-09-01 00:00:00", lambda r: r["sys_updated_on"] >= "2026-09-01"),
        ("sys_updated_on<2026-03-01", lambda r: r["sys_updated_on"] < "2026-03-01"),
        (
            "sys_updated_on>2026-09-01 00:00:00^state=1",
            lambda r: r["sys_updated_on"] > "2026-09-01 00:00:00" and r["state"] == "1",
        ),
        (
            "state=1^ORstate=2^priority=3",
            lambda r: r["state"] in ("1", "2") and r["priority"] == "3",
        ),
        ("state=1^NQpriority=1", lambda r: r["state"] == "1" or r["priority"] == "1"),
        ("assigned_toISEMPTY", lambda r: r["assigned_to"] == ""),
        ("resolved_at<2026-09-01", lambda r: "" < r["resolved_at"] < "2026-09-01"),
        ("priority>=3^impact<=2", lambda r: int(r["priority"]) >= 3 and int(r["impact"]) <= 2),
        ("short_descriptionLIKEvpn", lambda r: "vpn" in r["short_description"].lower()),
        (
            "sys_updated_on>=javascript:gs.dateGenerate('2026-06-01','12:00:00')",
            lambda r: r["sys_updated_on"] >= "2026-06-01 12:00:00",
        ),
    ],
)
async def test_encoded_query_filters(
    client: httpx.AsyncClient, snow: RunningFakeServiceNow, query: str, expected: Any
) -> None:
    params = {"sysparm_query": query, "sysparm_fields": "sys_id"}
    response = await client.get(f"{TABLE}/incident", params=params)
    assert response.status_code == 200, response.text
    wanted = [r["sys_id"] for r in incidents(snow) if expected(r)]
    assert 0 < len(wanted) < INCIDENTS
    assert sorted(row["sys_id"] for row in response.json()["result"]) == sorted(wanted)
    assert response.headers["X-Total-Count"] == str(len(wanted))
    count = await client.get(
        "/api/now/stats/incident", params={"sysparm_count": "true", "sysparm_query": query}
    )
    assert count.json() == {"result": {"stats": {"count": str(len(wanted))}}}


async def test_dot_walked_query(client: httpx.AsyncClient, snow: RunningFakeServiceNow) -> None:
    network = next(g for g in snow.state.dataset.tables["sys_user_group"] if g["name"] == "Network")
    params = {"sysparm_query": "assignment_group.name=Network", "sysparm_fields": "sys_id"}
    rows = (await client.get(f"{TABLE}/incident", params=params)).json()["result"]
    wanted = {r["sys_id"] for r in incidents(snow) if r["assignment_group"] == network["sys_id"]}
    assert {row["sys_id"] for row in rows} == wanted
    assert wanted


async def test_order_by_and_keyset(client: httpx.AsyncClient, snow: RunningFakeServiceNow) -> None:
    ordered = sorted(incidents(snow), key=lambda r: (r["sys_updated_on"], r["sys_id"]))
    params = {"sysparm_query": "ORDERBYsys_updated_on^ORDERBYsys_id", "sysparm_fields": "sys_id"}
    rows = (await client.get(f"{TABLE}/incident", params=params)).json()["result"]
    assert [row["sys_id"] for row in rows] == [r["sys_id"] for r in ordered]
    params["sysparm_query"] = "ORDERBYDESCpriority^ORDERBYnumber"
    params["sysparm_fields"] = "number"
    rows = (await client.get(f"{TABLE}/incident", params=params)).json()["result"]
    by_priority = sorted(incidents(snow), key=lambda r: (-int(r["priority"]), r["number"]))
    assert [row["number"] for row in rows] == [r["number"] for r in by_priority]
    # A keyset condition after the 100th record: (updated > t) OR (updated = t AND sys_id > id).
    mark = ordered[99]
    keyset = (
        f"sys_updated_on>{mark['sys_updated_on']}^NQsys_updated_on={mark['sys_updated_on']}"
        f"^sys_id>{mark['sys_id']}^ORDERBYsys_updated_on^ORDERBYsys_id"
    )
    params = {"sysparm_query": keyset, "sysparm_fields": "sys_id"}
    rows = (await client.get(f"{TABLE}/incident", params=params)).json()["result"]
    assert [row["sys_id"] for row in rows] == [r["sys_id"] for r in ordered[100:]]


async def test_groups_and_users(client: httpx.AsyncClient, snow: RunningFakeServiceNow) -> None:
    groups = await client.get(f"{TABLE}/sys_user_group", params={"sysparm_fields": "sys_id,name"})
    assert groups.headers["X-Total-Count"] == "6"
    names = [g["name"] for g in groups.json()["result"]]
    assert names[:3] == ["Service Desk", "Network", "Hardware"]
    admin = await client.get(f"{TABLE}/sys_user", params={"sysparm_query": f"user_name={DEV_USER}"})
    (user,) = admin.json()["result"]
    assert user["user_name"] == DEV_USER
    assert user["name"] == "System Administrator"


async def test_errors_in_servicenow_shape(
    client: httpx.AsyncClient, snow: RunningFakeServiceNow
) -> None:
    bad = await client.get(f"{TABLE}/incident", params={"sysparm_query": "bogus=1"})
    assert bad.status_code == 400
    assert bad.json()["status"] == "failure"
    assert "bogus" in bad.json()["error"]["detail"]
    table = await client.get(f"{TABLE}/nosuch")
    assert table.status_code == 404
    assert table.json() == {
        "error": {"message": "Invalid table nosuch", "detail": None},
        "status": "failure",
    }
    path = await client.get("/api/now/nothing/here")
    assert path.status_code == 400
    assert path.json()["error"]["message"] == "Requested URI does not represent any resource"
    record = await client.get(f"{TABLE}/incident/{'0' * 32}")
    assert record.status_code == 404
    assert record.json()["error"]["message"] == "No Record found"
    limit = await client.get(f"{TABLE}/incident", params={"sysparm_limit": "ten"})
    assert limit.status_code == 400


async def test_authentication_and_incident_permission(snow: RunningFakeServiceNow) -> None:
    async with httpx.AsyncClient(base_url=snow.base_url) as http:
        for auth in ((DEV_USER, "wrong"), ("nobody", DEV_PASSWORD)):
            response = await http.get(f"{TABLE}/incident", auth=auth)
            assert response.status_code == 401
            assert response.json() == {
                "error": {
                    "message": "User Not Authenticated",
                    "detail": "Required to provide Auth information",
                },
                "status": "failure",
            }
            assert DEV_PASSWORD not in response.text
        assert (await http.get(f"{TABLE}/incident")).status_code == 401
        reader = (NO_INCIDENTS_USER, NO_INCIDENTS_PASSWORD)
        denied = await http.get(f"{TABLE}/incident", auth=reader, params={"sysparm_limit": 1})
        assert denied.status_code == 403
        assert denied.json()["status"] == "failure"
        assert denied.json()["error"]["message"] == "Insufficient rights to query records"
        assert (await http.get("/api/now/stats/incident", auth=reader)).status_code == 403
        groups = await http.get(f"{TABLE}/sys_user_group", auth=reader)
        assert groups.status_code == 200
        assert len(groups.json()["result"]) == 6


async def test_health_and_metric_samples(snow: RunningFakeServiceNow) -> None:
    sample = re.compile(
        r'^fake_servicenow_requests_total\{endpoint="GET /api/now/table/sys_user",'
        r'status="200"\} (\d+)\.0$',
        re.MULTILINE,
    )
    async with httpx.AsyncClient(base_url=snow.base_url, auth=(DEV_USER, DEV_PASSWORD)) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        assert (await http.get("/readyz")).json() == {"status": "ready", "incidents": INCIDENTS}
        before_text = (await http.get("/metrics")).text
        found = sample.search(before_text)
        before = int(found.group(1)) if found else 0
        for _ in range(3):
            assert (await http.get(f"{TABLE}/sys_user")).status_code == 200
        after = sample.search((await http.get("/metrics")).text)
        assert after is not None
        assert int(after.group(1)) == before + 3
