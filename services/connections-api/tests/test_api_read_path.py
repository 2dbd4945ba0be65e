"""The list endpoint's raw asyncpg path: fresh after writes behind the API, robust pool."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from prometheus_client import REGISTRY

from connections_api.testing import Api
from contracts import ConnectionsPublic, Role
from rita_testing import asyncpg_dsn

ApiFactory = Callable[..., Awaitable[Api]]


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


def _shared_reads() -> float:
    value = REGISTRY.get_sample_value("connections_api_read_statements_total", {"mode": "shared"})
    return value or 0.0


async def test_concurrent_lists_share_reads_within_a_tenant_only(
    api_factory: ApiFactory,
) -> None:
    # One connection: requests queue behind it, and identical ones share the next execution.
    api = await api_factory(db_read_pool_size=1)
    tenants = [uuid.uuid4(), uuid.uuid4()]
    jira = {t: uuid.UUID((await api.seed(t))["jira_itsm"]["id"]) for t in tenants}
    committed = dict.fromkeys(tenants, 1)  # the version each tenant's Jira row has committed
    shared_before = _shared_reads()

    async def write(tenant: uuid.UUID) -> None:
        conn = await asyncpg.connect(asyncpg_dsn(api.database_url))
        try:
            for _ in range(15):
                version = await conn.fetchval(
                    "UPDATE data_source_connections SET version = version + 1,"
                    " updated_at = now() WHERE id = $1 AND tenant_id = $2 RETURNING version",
                    jira[tenant],
                    tenant,
                )
                committed[tenant] = version  # set after the commit returned
                await asyncio.sleep(0)
        finally:
            await conn.close()

    async def read(tenant: uuid.UUID) -> None:
        floor = committed[tenant]  # committed before this request started
        response = await api.client.get("/api/data-sources", headers=api.headers(tenant))
        rows = response.json()["data"]
        assert {row["tenant_id"] for row in rows} == {str(tenant)}
        row = next(r for r in rows if r["type"] == "jira_itsm")
        assert row["version"] >= floor

    await asyncio.gather(*(write(t) for t in tenants), *(read(tenants[i % 2]) for i in range(120)))
    assert _shared_reads() > shared_before


async def test_a_failed_shared_read_fails_every_sharer(api_factory: ApiFactory) -> None:
    api = await api_factory(db_read_pool_size=1)
    outcomes = await asyncio.gather(
        *(api.state.read_pool.fetchval("SELECT 1 / $1::int", 0) for _ in range(5)),
        return_exceptions=True,
    )
    assert all(isinstance(o, asyncpg.DivisionByZeroError) for o in outcomes)
    assert await api.state.read_pool.fetchval("SELECT 1 / $1::int", 1) == 1


async def test_a_read_never_joins_one_already_sent(
    api_factory: ApiFactory, tenant: uuid.UUID
) -> None:
    api = await api_factory(db_read_pool_size=1)
    jira = uuid.UUID((await api.seed(tenant))["jira_itsm"]["id"])
    pool = api.state.read_pool
    # The snapshot is taken when the statement starts; the sleep keeps it in flight.
    slow = "SELECT version FROM data_source_connections, pg_sleep($2) WHERE id = $1"
    first = asyncio.create_task(pool.fetchval(slow, jira, 0.3))
    while not await api.sql(  # wait until it runs on the server (it holds the only connection)
        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'connections-api-read'"
        " AND datname = current_database() AND state = 'active' AND query LIKE '%pg_sleep%'"
    ):
        assert not first.done()
    await api.sql("UPDATE data_source_connections SET version = version + 1 WHERE id = $1", jira)
    # Both start after the commit: they wait together for the connection, run once, see it.
    later = [asyncio.create_task(pool.fetchval(slow, jira, 0.3)) for _ in range(2)]
    shared_before = _shared_reads()
    assert await first == 1
    assert await asyncio.gather(*later) == [2, 2]
    assert _shared_reads() == shared_before + 1
