"""Restart Redis (with and without persistence) mid-import: every client ends at the right state.

A client here behaves like the console: it applies each data event to its copy of the rows and,
on `resync`, reads the rows again from the API. "Right state" is the API's answer now.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from rita_testing.stack import Stack
from tests.chaos.conftest import OwnRedis, Row
from tests.chaos.harness import Api, Listener, eventually_true, start_whole_system

EMAIL = "redis-chaos@example.com"
TOKEN = "fake-jira-token-redis-chaos"


@dataclass
class ConsoleCopy:
    """What one browser shows: rows from events, refetched after `resync`."""

    listener: Listener
    api: Api
    connection_id: str
    connection: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] | None = None
    seen: int = 0

    async def refetch(self) -> None:
        self.connection = await self.api.get(self.connection_id)
        latest = await self.api.call(
            "GET", f"/api/data-sources/{self.connection_id}/ingestion-runs/latest"
        )
        self.run = latest.json()

    async def catch_up(self) -> None:
        frames = self.listener.frames[self.seen :]
        self.seen += len(frames)
        for frame in frames:
            if frame.event == "resync":
                await self.refetch()
            elif frame.event == "data_source_update" and frame.json()["id"] == self.connection_id:
                self.connection = frame.json()
            elif frame.event == "ingestion_run_update":
                self.run = frame.json()

    async def matches_api(self) -> bool:
        await self.catch_up()
        truth = await self.api.get(self.connection_id)
        latest = await self.api.call(
            "GET", f"/api/data-sources/{self.connection_id}/ingestion-runs/latest"
        )
        return self.connection == truth and self.run == latest.json()


@pytest.mark.parametrize("persistent", [True, False], ids=["aof", "no-persistence"])
async def test_redis_restart_mid_import_every_client_reaches_the_right_state(
    persistent: bool,
    stack_factory: Callable[..., Stack],
    own_redis_factory: Callable[[bool], OwnRedis],
    chaos_row: Row,
) -> None:
    redis = own_redis_factory(persistent)
    await redis.start()
    stack = stack_factory(REDIS_URL=redis.url)
    jira, gateway, api_proc = await asyncio.to_thread(
        start_whole_system,
        stack,
        f"{EMAIL}:{TOKEN}",
        FAKE_JIRA_ISSUES="1200",
        FAKE_JIRA_LATENCY_MS="80",
    )
    async with Api(api_proc.url, uuid.uuid4()) as api:
        row = await api.connection("jira_itsm")
        token = await api.events_token()
        clients = [
            ConsoleCopy(await Listener(gateway.url, token).start(), api, row["id"])
            for _ in range(3)
        ]
        for client in clients:
            await client.refetch()
        await api.verify_jira(row["id"], jira.url, EMAIL, TOKEN)
        await eventually_true(lambda: api.verified(row["id"]), within=60)
        started = await api.call(
            "POST", f"/api/data-sources/{row['id']}/sync-tickets", json={"time_range_days": 365}
        )
        assert started.status_code == 202, started.text
        await eventually_true(lambda: _progressed(clients), within=60)

        redis.stop()
        # A change committed while Redis is down (the API answers; its event cannot go out yet).
        renamed = await api.call(
            "PATCH", f"/api/data-sources/{row['id']}", json={"name": "Renamed during outage"}
        )
        assert renamed.status_code == 200, renamed.text
        await asyncio.sleep(1.0)  # the outage lasts a moment: progress keeps being committed
        await redis.start()

        async def all_match() -> bool:
            return all([await c.matches_api() for c in clients])

        recovered = await eventually_true(all_match, within=60)

        async def import_done() -> bool:
            latest = await api.call("GET", f"/api/data-sources/{row['id']}/ingestion-runs/latest")
            return bool(latest.json()["status"] == "completed")

        await eventually_true(import_done, within=180)
        await eventually_true(all_match, within=30)
        names = {c.connection["name"] for c in clients}
        for client in clients:
            await client.listener.stop()
    assert names == {"Renamed during outage"}
    mode = "with AOF" if persistent else "without persistence"
    chaos_row(
        f"seconds after Redis ({mode}) returned until every client showed the API's state",
        f"{recovered:.2f}",
        "≤ 5",
        met=recovered <= 5,
    )
    chaos_row(
        f"changes silently lost across the Redis restart ({mode})",
        "0 (rename made during the outage shown by all 3 clients; final run state matches)",
        "0",
        met=True,
    )


async def _progressed(clients: list[ConsoleCopy]) -> bool:
    for client in clients:
        await client.catch_up()
    return all(c.run is not None and c.run.get("records_processed", 0) > 0 for c in clients)
