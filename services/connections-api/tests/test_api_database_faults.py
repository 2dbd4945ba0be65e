"""Issue 12 point 5: a dropped pooled connection is never a 5xx; an outage is 503 + Retry-After."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
from structlog.testing import capture_logs

from connections_api.app import APPLICATION_NAME
from connections_api.errors import DATABASE_RETRY_AFTER_SECONDS
from rita_testing import eventually, free_port, with_database
from rita_testing.connections_api import Api

ApiFactory = Callable[..., Awaitable[Api]]


async def _terminate_api_connections(api: Api) -> int:
    """Kill this test database's API connections (never another database's, never ours)."""
    killed = await api.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name = $1"
        " AND pid <> pg_backend_pid()",
        APPLICATION_NAME,
    )
    return len(killed)


async def _reads(api: Api, tenant: uuid.UUID, cid: str) -> list[httpx.Response]:
    headers = api.headers(tenant)
    paths = [
        "/api/data-sources",
        "/api/data-sources?category=itsm",
        f"/api/data-sources/{cid}",
        f"/api/data-sources/{cid}/ingestion-runs",
        f"/api/data-sources/{cid}/ingestion-runs/latest",
    ]
    # Concurrent, so that several pooled connections are in use (and all of them dropped).
    return list(
        await asyncio.gather(*(api.client.get(p, headers=headers) for p in paths for _ in range(4)))
    )


async def test_reads_after_the_server_drops_every_pooled_connection_are_never_5xx(
    api_factory: ApiFactory, tenant: uuid.UUID
) -> None:
    # Every list read goes to the database here (no kept pages), so each one meets the drop.
    api = await api_factory(list_cache_seconds=0)
    rows = await api.seed(tenant)
    cid = rows["jira_itsm"]["id"]
    assert {r.status_code for r in await _reads(api, tenant, cid)} == {200}
    for _ in range(3):
        assert await _terminate_api_connections(api) > 0
        answers = await _reads(api, tenant, cid)
        assert [r.status_code for r in answers] == [200] * len(answers), [
            r.text for r in answers if r.status_code != 200
        ]


async def test_a_write_after_the_server_drops_the_pool_succeeds(
    api: Api, tenant: uuid.UUID
) -> None:
    rows = await api.seed(tenant)
    cid = rows["jira_itsm"]["id"]
    await _reads(api, tenant, cid)
    assert await _terminate_api_connections(api) > 0
    response = await api.client.patch(
        f"/api/data-sources/{cid}", json={"name": "Renamed"}, headers=api.headers(tenant)
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Renamed"


async def test_every_route_answers_503_with_retry_after_while_the_database_is_down(
    api_factory: ApiFactory, module_database_url: str
) -> None:
    nothing_listens = with_database(
        module_database_url.replace("127.0.0.1:5432", f"127.0.0.1:{free_port()}"), "rita"
    )
    api = await api_factory(database_url=nothing_listens)
    tenant, cid = uuid.uuid4(), uuid.uuid4()
    headers = api.headers(tenant)
    base = f"/api/data-sources/{cid}"
    calls = [
        ("GET", "/api/data-sources", None),
        ("GET", "/api/data-sources?category=knowledge", None),
        ("POST", "/api/data-sources/seed", None),
        ("GET", base, None),
        ("PATCH", base, {"name": "x"}),
        (
            "POST",
            f"{base}/verify",
            {
                "settings": {"base_url": "https://acme.atlassian.net", "email": "a@example.com"},
                "credentials": {"email": "a@example.com", "api_token": "t"},
            },
        ),
        ("POST", f"{base}/sync-tickets", {"time_range_days": 30}),
        ("POST", f"{base}/cancel-ingestion", None),
        ("GET", f"{base}/ingestion-runs", None),
        ("GET", f"{base}/ingestion-runs/latest", None),
    ]
    for method, path, body in calls:
        response = await api.client.request(method, path, json=body, headers=headers)
        assert response.status_code == 503, (method, path, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == str(DATABASE_RETRY_AFTER_SECONDS)
        assert response.json()["code"] == "database_unavailable"
    ready = await api.client.get("/readyz")
    assert ready.status_code == 503


async def test_the_relay_backs_off_while_the_database_is_down_and_keeps_running(
    api_factory: ApiFactory, module_database_url: str
) -> None:
    nothing_listens = with_database(
        module_database_url.replace("127.0.0.1:5432", f"127.0.0.1:{free_port()}"), "rita"
    )
    with capture_logs() as logs:
        await api_factory(database_url=nothing_listens, outbox_poll_interval=0.1)

        def errors() -> list[MutableMapping[str, Any]]:
            return [e for e in logs if e["event"] == "outbox_relay_error"]

        async def retried_three_times() -> bool:
            return len(errors()) >= 3

        await eventually(retried_three_times)
        first, second, third = errors()[:3]
    assert [e["attempt"] for e in (first, second, third)] == [1, 2, 3]
    assert {e["error_type"] for e in (first, second, third)} == {"ConnectionRefusedError"}
    # Poll 0.1 s: waits of 0.1-0.2, 0.2-0.3, 0.4-0.5 s (doubling, plus a jitter; rounded).
    waits = [float(e["retry_in"]) for e in (first, second, third)]
    assert waits[0] <= waits[1] < waits[2]
    [relay] = [t for t in asyncio.all_tasks() if t.get_name() == "outbox-relay"]
    assert not relay.done()
