"""Kill and restart the gateway while clients listen: resumed by Last-Event-ID, 0 lost, 0 dup."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from rita_testing.stack import Stack
from rita_testing.workload import (
    publish,
    seed_workload,
    workload_done,
)
from tests.chaos.conftest import Row
from tests.chaos.harness import (
    Listener,
    all_caught_up,
    eventually_true,
    listeners_for,
    stream_ids,
)


async def test_gateway_sigkill_and_restart_clients_resume_with_nothing_lost_or_repeated(
    stack_factory: Callable[..., Stack],
    system_database: str,
    rabbitmq_url: str,
    redis_url: str,
    redis_prefix: str,
    queue_name: str,
    chaos_row: Row,
) -> None:
    work = await seed_workload(system_database, runs=20, verifications=0, steps=40)
    tenants = sorted({tenant for tenant, *_ in work.runs})
    stack = stack_factory()
    await asyncio.to_thread(stack.start, "connections-api")
    await asyncio.to_thread(stack.start, "status-consumer")
    gateway = await asyncio.to_thread(stack.start, "sse-gateway")
    clients = await listeners_for(
        stack.procs["connections-api"].url, [gateway.url, gateway.url], tenants
    )
    bodies = work.messages()

    async def publish_steadily() -> None:
        for i in range(0, len(bodies), 20):
            await publish(rabbitmq_url, queue_name, bodies[i : i + 20])
            await asyncio.sleep(0.02)

    publishing = asyncio.create_task(publish_steadily())
    everyone = [listener for group in clients.values() for listener in group]
    # Kill while events flow: every client has seen some, the workload is far from done.
    await eventually_true(lambda: _all_saw_some(everyone), within=60)
    await asyncio.to_thread(stack.kill, "sse-gateway")
    await asyncio.to_thread(stack.restart, "sse-gateway")
    await publishing
    await eventually_true(lambda: workload_done(system_database, work), within=120)

    lost = repeated = 0
    for tenant, group in clients.items():
        expected = await stream_ids(redis_url, redis_prefix, tenant)
        await all_caught_up(group, expected)
        for listener in group:
            got = [f.id for f in listener.data_frames()]
            lost += len(set(expected) - set(got))
            repeated += len(got) - len(set(got))
        assert all(listener.connects >= 2 for listener in group)  # they did reconnect
    for listener in everyone:
        await listener.stop()
    events = sum(len(group[0].data_frames()) for group in clients.values())
    chaos_row(
        "events lost / repeated across a gateway SIGKILL",
        f"{lost} / {repeated} of {events} per client set ({len(everyone)} clients)",
        "0 / 0",
        met=lost == 0 and repeated == 0,
    )


async def _all_saw_some(listeners: list[Listener]) -> bool:
    return all(len(client.data_frames()) >= 3 for client in listeners)
