"""What a user feels: status message published to RabbitMQ → SSE frame in the browser.

100 tenants, each with a running import and 10 SSE clients on one gateway (1,000 streams).
Full path: `ticket_ingestion` progress published to the status queue at 1,000 msg/s, applied by
the status consumer (PostgreSQL), published to Redis, fanned out by the gateway. Baseline, in
the same run and with the same clients: the same events published straight to Redis at the same
rate (the gateway alone). Latency is publish → frame, measured in this one process for both.
Own database, queue, Redis prefix and processes; all removed at the end.

Goals (issue 12): p99 ≤ 100 ms, and the full path adds ≤ 50 ms p99 over the gateway alone.
Run: `uv run python bench/e2e_latency.py [--seconds S] [--rate R]`.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import aio_pika
import asyncpg
import httptools
import httpx
from redis.asyncio import Redis

import store
from contracts import EventName, IngestionRunPublic, IngestionRunStatus
from events import EventPublisher, OutgoingEvent
from rita_testing import (
    DEFAULT_DATABASE_URL,
    DEFAULT_RABBITMQ_URL,
    DEFAULT_REDIS_URL,
    asyncpg_dsn,
    with_database,
)
from rita_testing.stack import Stack, stack_secrets
from rita_testing.workload import seed_workload

TENANTS = 100
CLIENTS_PER_TENANT = 10


@dataclass
class Clock:
    """Publish times by (run id, records_processed), and the latencies of the frames seen."""

    sent: dict[tuple[str, int], float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    unmatched: int = 0

    def frame(self, block: bytes, now: float) -> None:
        at = block.find(b"data: ")
        if at < 0 or b"ingestion_run_update" not in block:
            return
        data = json.loads(block[at + 6 :].split(b"\r\n", 1)[0])
        sent = self.sent.get((data["id"], data["records_processed"]))
        if sent is None:
            self.unmatched += 1
        else:
            self.latencies.append(now - sent)


class SseClient(asyncio.Protocol):
    """A minimal EventSource: HTTP/1.1 response parsed by httptools, frames to the clock."""

    def __init__(self, clock: Callable[[], Clock], path: bytes) -> None:
        self.clock, self.path = clock, path
        self.buf = b""
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(b"GET " + self.path + b" HTTP/1.1\r\nHost: bench\r\n\r\n")

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_headers_complete(self) -> None:
        if not self.ready.done():
            self.ready.set_result(self.parser.get_status_code())

    def on_body(self, body: bytes) -> None:
        now = time.perf_counter()
        self.buf += body
        *blocks, self.buf = self.buf.split(b"\r\n\r\n")
        for block in blocks:
            self.clock().frame(block, now)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_result(0)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


async def seed(url: str) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]:
    """One syncing ITSM connection with a run per tenant: `(tenant, connection, run)`."""
    work = await seed_workload(url, runs=TENANTS, verifications=0, steps=1, tenants=TENANTS)
    return [(tenant, connection, run) for tenant, run, connection, _end in work.runs]


async def open_clients(
    stack: Stack, tenants: list[uuid.UUID], clock: Callable[[], Clock]
) -> list[SseClient]:
    api, gateway = stack.procs["connections-api"], stack.procs["sse-gateway"]
    loop = asyncio.get_running_loop()
    clients: list[SseClient] = []
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        for tenant in tenants:
            dev = await http.post("/api/dev/token", json={"tenant_id": str(tenant)})
            auth = {"Authorization": f"Bearer {dev.json()['access_token']}"}
            token = (await http.post("/api/events/token", headers=auth)).json()["access_token"]
            path = f"/events?access_token={token}".encode()
            for _ in range(CLIENTS_PER_TENANT):
                _t, client = await loop.create_connection(
                    functools.partial(SseClient, clock, path), "127.0.0.1", gateway.port
                )
                clients.append(client)
    statuses = await asyncio.gather(*(c.ready for c in clients))
    if set(statuses) != {200}:
        raise RuntimeError(f"streams refused: {sorted(set(statuses))}")
    return clients


async def paced(rate: int, seconds: float, send: Callable[[int], Any]) -> int:
    """Call `send(n)` for n = 0, 1, ... at `rate` per second for `seconds`, in 10 ms ticks."""
    total, tick = int(rate * seconds), 0.01
    per_tick, start, n = max(1, int(rate * tick)), time.perf_counter(), 0
    while n < total:
        await asyncio.gather(*(send(n + i) for i in range(min(per_tick, total - n))))
        n += per_tick
        delay = start + (n / rate) - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    return total


async def full_path(
    stack: Stack,
    *,
    runs: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]],
    clock: Clock,
    rate: int,
    seconds: float,
    base: int,
) -> int:
    connection = await aio_pika.connect(stack.env["RABBITMQ_URL"])
    async with connection:
        channel = await connection.channel()
        queue = stack.env["STATUS_QUEUE"]

        async def send(n: int) -> None:
            tenant, _conn, run = runs[n % len(runs)]
            records = base + n // len(runs) + 1
            body = json.dumps(
                {
                    "type": "ticket_ingestion",
                    "tenant_id": str(tenant),
                    "ingestion_run_id": str(run),
                    "status": "running",
                    "records_processed": records,
                }
            ).encode()
            clock.sent[(str(run), records)] = time.perf_counter()
            await channel.default_exchange.publish(aio_pika.Message(body), routing_key=queue)

        return await paced(rate, seconds, send)


async def gateway_alone(
    stack: Stack,
    *,
    runs: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]],
    clock: Clock,
    rate: int,
    seconds: float,
    base: int,
) -> int:
    redis = Redis.from_url(stack.env["REDIS_URL"])
    publisher = EventPublisher(redis, prefix=stack.env["EVENTS_KEY_PREFIX"])
    now = datetime.now(UTC)

    async def send(n: int) -> None:
        tenant, conn, run = runs[n % len(runs)]
        records = base + n // len(runs) + 1
        row = IngestionRunPublic(
            id=run,
            tenant_id=tenant,
            connection_id=conn,
            status=IngestionRunStatus.RUNNING,
            time_range_days=30,
            records_processed=records,
            created_at=now,
            updated_at=now,
        )
        clock.sent[(str(run), records)] = time.perf_counter()
        await publisher.publish_many([OutgoingEvent(tenant, EventName.INGESTION_RUN_UPDATE, row)])

    try:
        return await paced(rate, seconds, send)
    finally:
        await redis.aclose()


async def drain(clock: Clock, expected: int, within: float = 10.0) -> None:
    deadline = time.perf_counter() + within
    while len(clock.latencies) < expected and time.perf_counter() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)  # frames arrive in a protocol callback: poll their count


async def main_async(seconds: float, rate: int) -> None:
    run_tag = uuid.uuid4().hex[:10]
    database = f"bench_e2e_{run_tag}"
    admin = await asyncpg.connect(asyncpg_dsn(with_database(DEFAULT_DATABASE_URL, "postgres")))
    await admin.execute(f'CREATE DATABASE "{database}"')
    url = with_database(DEFAULT_DATABASE_URL, database)
    stack = Stack(
        env={
            **stack_secrets(),
            "DATABASE_URL": url,
            "RABBITMQ_URL": DEFAULT_RABBITMQ_URL,
            "REDIS_URL": DEFAULT_REDIS_URL,
            "STATUS_QUEUE": f"bench.e2e.{run_tag}",
            "EVENTS_KEY_PREFIX": f"bench:e2e:{run_tag}:",
            "AUTH_DEV_MODE": "true",
            "LOG_LEVEL": "WARNING",
        }
    )
    clients: list[SseClient] = []
    try:
        await asyncio.to_thread(store.migrate, url)
        runs = await seed(url)
        for name in ("connections-api", "status-consumer", "sse-gateway"):
            await asyncio.to_thread(stack.start, name)
        phases: dict[str, Clock] = {"full": Clock(), "gateway": Clock()}
        current = ["full"]
        clients = await open_clients(stack, [t for t, _c, _r in runs], lambda: phases[current[0]])
        per_round = int(rate * seconds)
        # Alternate the two paths in rounds so the machine's load weighs on both alike.
        for round_no in range(2):
            for name, drive in (("full", full_path), ("gateway", gateway_alone)):
                current[0] = name
                base = (round_no * 2 + (name == "gateway")) * (per_round // TENANTS + 1)
                before = len(phases[name].latencies)
                sent = await drive(
                    stack, runs=runs, clock=phases[name], rate=rate, seconds=seconds / 2, base=base
                )
                await drain(phases[name], before + sent * CLIENTS_PER_TENANT)
        full, alone = phases["full"], phases["gateway"]
        expected = len(full.sent) * CLIENTS_PER_TENANT
        print(f"streams={len(clients)} rate={rate}/s seconds={seconds}")
        print(
            f"full path: {len(full.latencies)} of {expected} frames, gateway alone: "
            f"{len(alone.latencies)} of {len(alone.sent) * CLIENTS_PER_TENANT}"
        )
        for q, name in ((0.5, "p50"), (0.99, "p99")):
            value, baseline = percentile(full.latencies, q), percentile(alone.latencies, q)
            print(
                f"RESULT e2e_{name}_latency value={value:.2f} baseline={baseline:.2f} "
                f"ratio={value / baseline:.2f} unit=ms"
            )
        added = percentile(full.latencies, 0.99) - percentile(alone.latencies, 0.99)
        print(f"RESULT e2e_added_p99_latency value={added:.2f} baseline=- ratio=- unit=ms")
        delivered = len(full.latencies) / max(expected, 1)
        print(f"RESULT e2e_delivered value={delivered:.4f} baseline=- ratio=- unit=fraction")
    finally:
        for client in clients:
            client.close()
        stack.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
        connection = await aio_pika.connect(DEFAULT_RABBITMQ_URL)
        async with connection:
            channel = await connection.channel()
            for name in (stack.env["STATUS_QUEUE"], f"{stack.env['STATUS_QUEUE']}.dlq"):
                await channel.queue_delete(name)
        redis = Redis.from_url(DEFAULT_REDIS_URL)
        async for key in redis.scan_iter(match=f"{stack.env['EVENTS_KEY_PREFIX']}*"):
            await redis.delete(key)
        await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="publishing time per path")
    parser.add_argument("--rate", type=int, default=1000, help="messages (events) per second")
    args = parser.parse_args()
    asyncio.run(main_async(args.seconds, args.rate))


if __name__ == "__main__":
    main()
