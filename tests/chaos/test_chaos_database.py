"""PostgreSQL terminates the API's connections under read load: no read answers 5xx."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import asyncpg
import httpx

from rita_testing import asyncpg_dsn
from rita_testing.stack import Stack
from tests.chaos.conftest import Row
from tests.chaos.harness import Api


async def test_terminated_database_connections_never_surface_as_5xx_on_reads(
    stack_factory: Callable[..., Stack], system_database: str, chaos_row: Row
) -> None:
    stack = stack_factory()
    api_proc = await asyncio.to_thread(stack.start, "connections-api")
    tenant = uuid.uuid4()
    async with Api(api_proc.url, tenant) as api:
        row = await api.connection("jira_itsm")
        paths = [
            "/api/data-sources",
            f"/api/data-sources/{row['id']}",
            f"/api/data-sources/{row['id']}/ingestion-runs",
            f"/api/data-sources/{row['id']}/ingestion-runs/latest",
        ]
        statuses: list[int] = []
        failures: list[str] = []
        stop = asyncio.Event()

        async def reader(n: int) -> None:
            while not stop.is_set():
                path = paths[n % len(paths)]
                try:
                    response = await api.http.get(path)
                    statuses.append(response.status_code)
                    if response.status_code >= 500:
                        failures.append(f"{path} {response.status_code} {response.text[:120]}")
                except httpx.TransportError:
                    statuses.append(599)  # the connection itself failed: worse than a 5xx
                n += 1

        async def terminator() -> int:
            killed = 0
            db = await asyncpg.connect(asyncpg_dsn(system_database))
            try:
                for _ in range(10):
                    await asyncio.sleep(1.0)  # a failover a second: every in-flight read hit
                    killed += len(
                        await db.fetch(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        )
                    )
            finally:
                await db.close()
            return killed

        readers = [asyncio.create_task(reader(n)) for n in range(8)]
        killed = await terminator()
        stop.set()
        await asyncio.gather(*readers)
    errors = [s for s in statuses if s >= 500]
    if failures:
        print("\n".join(sorted(set(failures))))  # noqa: T201 - shown when the test fails
    assert killed > 0
    assert statuses.count(200) > 0
    assert errors == []
    chaos_row(
        "5xx answers to reads while connections are terminated",
        f"{len(errors)} of {len(statuses)} ({killed} backends terminated)",
        "0",
        met=not errors,
    )
