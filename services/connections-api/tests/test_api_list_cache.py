"""The list's kept pages (list_fast_path.py): forgotten at every change, never kept blind."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog.testing
from sqlalchemy.ext.asyncio import create_async_engine

from connections_api.list_fast_path import LISTENER_APPLICATION_NAME, ConnectionLister
from contracts import ConnectionsPublic, DataSourceType, Role
from rita_testing import ManualClock, eventually
from rita_testing.connections_api import Api

ApiFactory = Callable[..., Awaitable[Api]]
JIRA = [DataSourceType.JIRA_ITSM]


async def _listening(api: Api) -> None:
    await eventually(lambda: api.state.lister.caching, what="the API hears change notices")


async def _jira(api: Api, tenant: uuid.UUID) -> dict[str, Any]:
    response = await api.client.get("/api/data-sources", headers=api.headers(tenant, Role.MEMBER))
    assert response.status_code == 200, response.text
    return next(r for r in response.json()["data"] if r["type"] == "jira_itsm")


async def test_a_change_behind_the_api_reaches_a_kept_page(api: Api, tenant: uuid.UUID) -> None:
    # The status consumer, another replica or psql: PostgreSQL's notice makes the API forget.
    rows = await api.seed(tenant)
    await _listening(api)
    before = await _jira(api, tenant)
    assert api.state.lister.keeps(tenant)
    await api.sql(
        "UPDATE data_source_connections SET status = 'verifying', version = version + 1"
        " WHERE id = $1",
        uuid.UUID(rows["jira_itsm"]["id"]),
    )
    await eventually(lambda: not api.state.lister.keeps(tenant), what="the notice arrives")
    after = await _jira(api, tenant)
    assert (before["status"], after["status"]) == ("idle", "verifying")
    assert after["version"] == before["version"] + 1


async def test_the_api_reads_its_own_write_at_once(api: Api, tenant: uuid.UUID) -> None:
    rows = await api.seed(tenant)
    await _listening(api)
    await _jira(api, tenant)
    assert api.state.lister.keeps(tenant)
    patched = await api.client.patch(
        f"/api/data-sources/{rows['jira_itsm']['id']}",
        json={"name": "Renamed"},
        headers=api.headers(tenant),
    )
    assert patched.status_code == 200, patched.text
    # No waiting: the commit itself made this process forget the page before it answered.
    assert (await _jira(api, tenant))["name"] == "Renamed"


async def test_pages_of_other_tenants_stay_kept(api: Api) -> None:
    one, other = uuid.uuid4(), uuid.uuid4()
    rows = await api.seed(one)
    await api.seed(other)
    await _listening(api)
    await _jira(api, one)
    await _jira(api, other)
    await api.sql(
        "UPDATE data_source_connections SET name = 'x' WHERE id = $1",
        uuid.UUID(rows["jira_itsm"]["id"]),
    )
    await eventually(lambda: not api.state.lister.keeps(one), what="the notice arrives")
    assert api.state.lister.keeps(other)


async def test_truncate_forgets_every_tenant(api: Api, tenant: uuid.UUID) -> None:
    await api.seed(tenant)
    await _listening(api)
    await _jira(api, tenant)
    await api.sql("TRUNCATE data_source_connections CASCADE")
    await eventually(lambda: not api.state.lister.keeps(tenant), what="the notice arrives")
    listed = await api.client.get("/api/data-sources", headers=api.headers(tenant))
    # Read fresh: the empty table (this process remembers it ensured the defaults once).
    assert ConnectionsPublic.model_validate_json(listed.content).count == 0


async def test_nothing_is_kept_while_the_listen_connection_is_lost(
    api: Api, tenant: uuid.UUID
) -> None:
    rows = await api.seed(tenant)
    await _listening(api)
    await _jira(api, tenant)
    killed = await api.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name = $1",
        LISTENER_APPLICATION_NAME,
    )
    assert len(killed) == 1
    # Every page is forgotten at once, and the API listens again on a new connection.
    await eventually(lambda: not api.state.lister.keeps(tenant), what="pages forgotten")
    await _listening(api)
    await api.sql(
        "UPDATE data_source_connections SET name = 'After' WHERE id = $1",
        uuid.UUID(rows["jira_itsm"]["id"]),
    )
    await eventually(lambda: not api.state.lister.keeps(tenant), what="the notice arrives")
    assert (await _jira(api, tenant))["name"] == "After"


async def test_list_cache_seconds_zero_reads_the_database_every_time(
    api_factory: ApiFactory, tenant: uuid.UUID
) -> None:
    api = await api_factory(list_cache_seconds=0)
    rows = await api.seed(tenant)
    await _jira(api, tenant)
    assert not api.state.lister.caching
    assert not api.state.lister.keeps(tenant)
    await api.sql(
        "UPDATE data_source_connections SET name = 'Direct' WHERE id = $1",
        uuid.UUID(rows["jira_itsm"]["id"]),
    )
    assert (await _jira(api, tenant))["name"] == "Direct"


class _CountingLister(ConnectionLister):
    """The cache's rules over an in-memory read (the database paths are tested above)."""

    def __init__(self, clock: ManualClock, during_read: Callable[[], None] = lambda: None) -> None:
        engine = create_async_engine("postgresql+asyncpg://unused@127.0.0.1:1/unused")
        super().__init__(engine, cache_seconds=30, timer=clock)
        self._listening = True  # as if the change notices were heard
        self.reads = 0
        self.during_read = during_read

    async def _read(self, tenant_id: uuid.UUID, types: tuple[str, ...]) -> bytes:
        self.reads += 1
        self.during_read()
        return f"{tenant_id} {types} {self.reads}".encode()


async def test_a_kept_page_expires_after_list_cache_seconds() -> None:
    clock = ManualClock()
    lister = _CountingLister(clock)
    tenant = uuid.uuid4()
    first = await lister.page_json(tenant, JIRA)
    clock.now = 29.9
    assert await lister.page_json(tenant, JIRA) == first
    clock.now = 30.0
    assert await lister.page_json(tenant, JIRA) != first
    assert lister.reads == 2


async def test_a_read_overlapping_a_change_is_answered_but_not_kept() -> None:
    tenant = uuid.uuid4()
    lister = _CountingLister(ManualClock())
    lister.during_read = lambda: lister.forget(tenant)  # a notice lands while the read runs
    await lister.page_json(tenant, JIRA)
    assert not lister.keeps(tenant)
    lister.during_read = lambda: None
    await lister.page_json(tenant, JIRA)
    assert lister.keeps(tenant)
    assert lister.reads == 2


async def test_pages_of_each_category_are_kept_apart() -> None:
    tenant = uuid.uuid4()
    lister = _CountingLister(ManualClock())
    itsm = await lister.page_json(tenant, JIRA)
    everything = await lister.page_json(tenant)
    assert itsm != everything
    assert await lister.page_json(tenant, JIRA) == itsm
    assert lister.reads == 2


class _DeafLister(ConnectionLister):
    """Its LISTEN connection hears nothing: a pooler in transaction mode, a swallowed notice."""

    def _on_notice(self, _conn: Any, _pid: int, _channel: str, _payload: str) -> None:
        return


async def test_pages_are_kept_only_while_probe_notices_come_back(module_database_url: str) -> None:
    engine = create_async_engine(module_database_url)
    deaf = _DeafLister(engine, cache_seconds=30, check_seconds=0.2)
    hearing = ConnectionLister(engine, cache_seconds=30, check_seconds=0.2)
    tasks = [asyncio.create_task(lister.listen_forever()) for lister in (deaf, hearing)]
    try:
        with structlog.testing.capture_logs() as logs:
            await eventually(lambda: hearing.caching, what="the probe comes back")

            def deaf_gave_up() -> bool:
                return any(e["event"] == "list_cache_not_listening" for e in logs)

            await eventually(deaf_gave_up, what="the deaf listener's probe times out")
        assert not deaf.caching
        assert hearing.caching
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await engine.dispose()
