"""The API killed between commit and its webhook: the outbox delivers after the restart."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import asyncpg

from rita_testing import asyncpg_dsn
from rita_testing.stack import Stack
from tests.chaos.conftest import Row
from tests.chaos.harness import Api, enable, eventually_true
from tests.chaos.receiver import running_receiver


async def outbox_rows(database_url: str) -> list[asyncpg.Record]:
    db = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return list(await db.fetch("SELECT webhook_id, action, status FROM webhook_outbox"))
    finally:
        await db.close()


async def test_api_killed_between_commit_and_webhook_delivers_after_restart(
    stack_factory: Callable[..., Stack], system_database: str, chaos_row: Row
) -> None:
    async with running_receiver() as receiver:
        receiver.hold = True  # the first delivery never gets an answer: the API dies waiting
        stack = stack_factory(SYNC_WEBHOOK_URL=receiver.url)
        api_proc = await asyncio.to_thread(stack.start, "connections-api")
        tenant = uuid.uuid4()
        async with Api(api_proc.url, tenant) as api:
            row = await api.connection("jira_itsm")
            await enable(system_database, row["id"])
            started = await api.call(
                "POST", f"/api/data-sources/{row['id']}/sync-tickets", json={"time_range_days": 30}
            )
            assert started.status_code == 202, started.text
        await asyncio.wait_for(receiver.arrived.wait(), 30)
        await asyncio.to_thread(stack.kill, "connections-api")
        # Committed, sent once, never answered: the row is still due.
        [pending] = await outbox_rows(system_database)
        assert (pending["action"], pending["status"]) == ("sync_tickets", "pending")

        receiver.hold = False
        receiver.release.set()
        await asyncio.to_thread(stack.restart, "connections-api")

        async def delivered() -> bool:
            rows = await outbox_rows(system_database)
            return [r["status"] for r in rows] == ["delivered"]

        await eventually_true(delivered, within=60)
    ids = {d.webhook_id for d in receiver.deliveries}
    # The same webhook-id both times: the sync service de-duplicates the redelivery.
    assert ids == {pending["webhook_id"]}
    assert receiver.actions() == ["sync_tickets"] * len(receiver.deliveries)
    chaos_row(
        "webhooks lost after SIGKILL between commit and delivery",
        f"0 of 1 (delivered after restart; {len(receiver.deliveries)} attempts, one webhook-id)",
        "0 lost",
        met=True,
    )
