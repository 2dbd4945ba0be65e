"""Kill and restart the gateway while clients listen: resumed by Last-Event-ID, 0 lost, 0 dup."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import redis.asyncio as aioredis

from contracts import tenant_events_key
from rita_testing.stack import Stack
from rita_testing.workload import (
    publish,
    seed_workload,
    workload_done,
)
from tests.chaos.conftest import Row
from tests.chaos.harness import (
    Api,
    Listener,
    all_caught_up,
    eventually_true,
)


async def stream_ids(redis_url: str, prefix: str, tenant: uuid.UUID) -> list[str]:
    client = aioredis.from_url(redis_url, decode_responses=True)
    try:
        entries = await client.xrange(tenant_events_key(tenant, prefix))
    finally:
        await client.aclose()
    return [str(entry_id) for entry_id, _fields in entries or []]


async def listeners_for(
    api_url: str, gateway_url: str, tenants: list[uuid.UUID], per_tenant: int
) -> dict[uuid.UUID, list[Listener]]:
    out: dict[uuid.UUID, list[Listener]] = {}
    for tenant in tenants:
        async with Api(api_url, tenant) as api:
            token = await api.events_token()
        out[tenant] = [await Listener(gateway_url, token).start() for _ in range(per_tenant)]
    return out


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
    clients = await listeners_for(stack.procs["connections-api"].url, gateway.url, tenants, 2)
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
