"""SIGKILL the status consumer with 20,000 messages in flight; restarted, it ends exact."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from rita_testing.stack import Stack
from rita_testing.workload import (
    publish,
    seed_workload,
    workload_done,
    workload_mismatches,
)
from tests.chaos.conftest import Row
from tests.chaos.harness import (
    eventually_true,
    metric_value,
)

pytestmark = pytest.mark.chaos_slow


async def test_consumer_sigkill_with_20000_messages_in_flight_loses_nothing(
    stack_factory: Callable[..., Stack],
    system_database: str,
    rabbitmq_url: str,
    queue_name: str,
    chaos_row: Row,
) -> None:
    work = await seed_workload(system_database, runs=500, verifications=1000, steps=37)
    bodies = work.messages()
    assert len(bodies) == 20_000
    await publish(rabbitmq_url, queue_name, bodies)
    stack = stack_factory()
    consumer = await asyncio.to_thread(stack.start, "status-consumer")

    # Kill at a known point: some batches are committed, most messages are still unapplied.
    async def some_committed() -> bool:
        return await metric_value(consumer.url, "status_consumer_messages_total") >= 1000

    await eventually_true(some_committed, within=120, every=0.02)
    applied_before_kill = await metric_value(consumer.url, "status_consumer_messages_total")
    await asyncio.to_thread(stack.kill, "status-consumer")
    assert applied_before_kill < len(bodies), "the kill landed after the whole workload"

    await asyncio.to_thread(stack.restart, "status-consumer")
    seconds = await eventually_true(lambda: workload_done(system_database, work), within=300)
    wrong = await workload_mismatches(system_database, work)
    assert wrong == []
    chaos_row(
        "rows in the wrong state after SIGKILL + restart",
        f"{len(wrong)} of {len(work.runs) + len(work.verifications)} "
        f"(killed after {int(applied_before_kill)} msgs; done {seconds:.1f}s after restart)",
        "0 (exact, 0 lost)",
        met=not wrong,
    )
