"""`GET /api/me`, and the default rows the server ensures on every list read (issue 11, 1-2)."""

from __future__ import annotations

import asyncio
import uuid

from contracts import DEFAULT_DATA_SOURCES, Role
from rita_testing.connections_api import Api

DEFAULT_TYPES = {item.type.value for item in DEFAULT_DATA_SOURCES}


async def test_me_answers_the_callers_subject_email_tenant_and_role(
    api: Api, tenant: uuid.UUID
) -> None:
    response = await api.client.get(
        "/api/me", headers=api.headers(tenant, Role.MEMBER, sub="reader-7")
    )
    assert response.status_code == 200
    assert response.json() == {
        "subject": "reader-7",
        "email": "reader-7@example.com",
        "tenant_id": str(tenant),
        "role": "member",
    }


async def test_me_without_a_token_is_401_problem(api: Api) -> None:
    response = await api.client.get("/api/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthorized"


async def test_a_members_first_list_shows_every_default_row(api: Api, tenant: uuid.UUID) -> None:
    listed = await api.client.get(
        "/api/data-sources", params={"category": "itsm"}, headers=api.headers(tenant, Role.MEMBER)
    )
    assert listed.status_code == 200
    assert [row["type"] for row in listed.json()["data"]] == ["servicenow", "jira_itsm"]
    stored = await api.sql("SELECT type FROM data_source_connections WHERE tenant_id = $1", tenant)
    assert {r["type"] for r in stored} == DEFAULT_TYPES
    events = await api.stream(tenant)
    assert sorted(e.data["type"] for e in events) == sorted(DEFAULT_TYPES)


async def test_a_tenant_lacking_only_jira_itsm_gets_it_and_keeps_its_rows(
    api: Api, tenant: uuid.UUID
) -> None:
    # Rows made before jira_itsm existed: written behind the API, never read through it yet.
    for item in DEFAULT_DATA_SOURCES:
        if item.type.value != "jira_itsm":
            await api.sql(
                "INSERT INTO data_source_connections (id, tenant_id, type, name, status, enabled,"
                " settings, config, version, created_at, updated_at)"
                " VALUES ($1, $2, $3, $4, 'idle', false, '{}', '{}', 3, now(), now())",
                uuid.uuid4(),
                tenant,
                item.type.value,
                f"old {item.name}",
            )
    before = {
        r["type"]: r["id"]
        for r in await api.sql(
            "SELECT type, id FROM data_source_connections WHERE tenant_id = $1", tenant
        )
    }
    listed = await api.client.get("/api/data-sources", headers=api.headers(tenant, Role.MEMBER))
    rows = {row["type"]: row for row in listed.json()["data"]}
    assert set(rows) == DEFAULT_TYPES
    assert rows["jira_itsm"]["version"] == 1
    assert all(str(before[t]) == rows[t]["id"] for t in before)
    assert all(rows[t]["version"] == 3 for t in before)
    events = await api.stream(tenant)
    assert [e.data["type"] for e in events] == ["jira_itsm"]


async def test_concurrent_first_reads_create_each_default_row_once(
    api: Api, tenant: uuid.UUID
) -> None:
    responses = await asyncio.gather(
        *(
            api.client.get("/api/data-sources", headers=api.headers(tenant, Role.MEMBER))
            for _ in range(5)
        )
    )
    assert all(r.status_code == 200 and r.json()["count"] == 6 for r in responses)
    stored = await api.sql("SELECT type FROM data_source_connections WHERE tenant_id = $1", tenant)
    assert sorted(r["type"] for r in stored) == sorted(DEFAULT_TYPES)
    assert len(await api.stream(tenant)) == 6
