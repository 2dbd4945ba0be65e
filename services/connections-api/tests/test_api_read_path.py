"""The list endpoint's raw asyncpg path: fresh after writes behind the API, robust pool."""

from __future__ import annotations

import json
import uuid

import asyncpg
import pytest

from connections_api.testing import Api
from contracts import ConnectionsPublic, Role


async def test_list_sees_a_write_made_behind_the_api(api: Api, tenant: uuid.UUID) -> None:
    # The status consumer changes rows in its own process: the next list must show it.
    rows = await api.seed(tenant)
    headers = api.headers(tenant, Role.MEMBER)
    before = (await api.client.get("/api/data-sources", headers=headers)).json()
    await api.sql(
        "UPDATE data_source_connections SET status = 'verifying', version = version + 1,"
        " updated_at = now() WHERE id = $1 AND tenant_id = $2",
        uuid.UUID(rows["jira_itsm"]["id"]),
        tenant,
    )
    after = (await api.client.get("/api/data-sources", headers=headers)).json()
    jira_before = next(r for r in before["data"] if r["type"] == "jira_itsm")
    jira_after = next(r for r in after["data"] if r["type"] == "jira_itsm")
    assert (jira_before["status"], jira_after["status"]) == ("idle", "verifying")
    assert jira_after["version"] == jira_before["version"] + 1
    ConnectionsPublic.model_validate(after)  # still the documented shape


async def test_list_body_is_json_of_the_documented_model(api: Api, tenant: uuid.UUID) -> None:
    await api.seed(tenant)
    response = await api.client.get("/api/data-sources", headers=api.headers(tenant))
    assert response.headers["content-type"] == "application/json"
    page = ConnectionsPublic.model_validate_json(response.content)
    assert page.count == len(page.data) == len(json.loads(response.content)["data"])
    schema = (await api.client.get("/openapi.json")).json()
    ok = schema["paths"]["/api/data-sources"]["get"]["responses"]["200"]["content"]
    assert ok["application/json"]["schema"] == {"$ref": "#/components/schemas/ConnectionsPublic"}


async def test_read_pool_refuses_writes_and_carries_on(api: Api) -> None:
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        await api.state.read_pool.fetchval(
            "UPDATE data_source_connections SET name = name WHERE false"
        )
    assert await api.state.read_pool.fetchval("SELECT 1") == 1


async def test_list_recovers_after_its_connections_are_killed(api: Api, tenant: uuid.UUID) -> None:
    await api.seed(tenant)
    headers = api.headers(tenant)
    assert (await api.client.get("/api/data-sources", headers=headers)).status_code == 200
    killed = await api.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE application_name = 'connections-api-read' AND datname = current_database()"
    )
    assert killed
    # The dead connection fails, is dropped, and the read runs again on a new one: no 500.
    for _ in range(3):
        assert (await api.client.get("/api/data-sources", headers=headers)).status_code == 200
