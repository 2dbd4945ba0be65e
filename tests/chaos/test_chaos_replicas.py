"""Two API, two consumer and two gateway processes on one database, broker and Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import asyncpg
import pytest

from rita_testing import asyncpg_dsn
from rita_testing.stack import Stack
from rita_testing.workload import (
    publish,
    seed_workload,
    workload_done,
    workload_mismatches,
)
from tests.chaos.conftest import Row
from tests.chaos.harness import (
    Api,
    all_caught_up,
    enable,
    eventually_true,
    listeners_for,
    stream_ids,
)
from tests.chaos.receiver import running_receiver


async def test_concurrent_sync_through_two_apis_starts_exactly_one_run(
    stack_factory: Callable[..., Stack], system_database: str, chaos_row: Row
) -> None:
    async with running_receiver() as receiver:
        stack = stack_factory(SYNC_WEBHOOK_URL=receiver.url)
        first = await asyncio.to_thread(stack.start, "api-1", "connections-api")
        second = await asyncio.to_thread(stack.start, "api-2", "connections-api")
        tenants = [uuid.uuid4() for _ in range(20)]
        outcomes: list[tuple[int, int]] = []
        for tenant in tenants:
            async with Api(first.url, tenant) as one, Api(second.url, tenant) as two:
                row = await one.connection("jira_itsm")
                await enable(system_database, row["id"])
                path = f"/api/data-sources/{row['id']}/sync-tickets"
                a, b = await asyncio.gather(
                    one.call("POST", path, json={"time_range_days": 30}),
                    two.call("POST", path, json={"time_range_days": 30}),
                )
                outcomes.append(tuple(sorted((a.status_code, b.status_code))))  # type: ignore[arg-type]
    db = await asyncpg.connect(asyncpg_dsn(system_database))
    try:
        runs_per_tenant = await db.fetch(
            "SELECT tenant_id, count(*) AS n FROM ingestion_runs GROUP BY tenant_id"
        )
    finally:
        await db.close()
    assert outcomes == [(202, 409)] * len(tenants)
    assert sorted(r["n"] for r in runs_per_tenant) == [1] * len(tenants)
    chaos_row(
        "runs started by concurrent sync-tickets through two APIs",
        f"exactly 1 for each of {len(tenants)} tenants (202 + 409 each)",
        "exactly 1",
        met=True,
    )


@pytest.mark.chaos_slow
async def test_two_consumers_share_20000_messages_and_reach_the_exact_state(
    stack_factory: Callable[..., Stack],
    system_database: str,
    rabbitmq_url: str,
    queue_name: str,
    chaos_row: Row,
) -> None:
    work = await seed_workload(system_database, runs=500, verifications=1000, steps=37)
    bodies = work.messages()
    stack = stack_factory()
    await asyncio.to_thread(stack.start, "consumer-1", "status-consumer")
    await asyncio.to_thread(stack.start, "consumer-2", "status-consumer")
    await publish(rabbitmq_url, queue_name, bodies)
    seconds = await eventually_true(lambda: workload_done(system_database, work), within=300)
    wrong = await workload_mismatches(system_database, work)
    assert wrong == []
    chaos_row(
        "rows in the wrong state, 20,000 messages over two consumers",
        f"{len(wrong)} ({seconds:.1f}s)",
        "0 (exact)",
        met=not wrong,
    )


async def test_clients_on_both_gateways_get_every_event_of_their_tenant(
    stack_factory: Callable[..., Stack],
    system_database: str,
    rabbitmq_url: str,
    redis_url: str,
    redis_prefix: str,
    queue_name: str,
    chaos_row: Row,
) -> None:
    work = await seed_workload(system_database, runs=10, verifications=0, steps=20)
    tenants = sorted({tenant for tenant, *_ in work.runs})
    stack = stack_factory()
    api_proc = await asyncio.to_thread(stack.start, "connections-api")
    await asyncio.to_thread(stack.start, "consumer-1", "status-consumer")
    await asyncio.to_thread(stack.start, "consumer-2", "status-consumer")
    gateways = [await asyncio.to_thread(stack.start, f"gateway-{n}", "sse-gateway") for n in (1, 2)]
    listeners = await listeners_for(api_proc.url, [g.url for g in gateways], tenants)
    await publish(rabbitmq_url, queue_name, work.messages())
    await eventually_true(lambda: workload_done(system_database, work), within=120)
    missing = 0
    for tenant, pair in listeners.items():
        expected = await stream_ids(redis_url, redis_prefix, tenant)
        await all_caught_up(pair, expected)
        missing += sum(len(set(expected) - {f.id for f in c.data_frames()}) for c in pair)
        for listener in pair:
            await listener.stop()
    chaos_row(
        "events missed by clients of two gateways",
        f"{missing} ({len(tenants)} tenants x 2 gateways)",
        "0",
        met=missing == 0,
    )
