"""Status-consumer throughput vs the FastStream floor and the aio-pika ceiling; p99 publish→commit.

20,000 messages (progress for 500 runs, 1,000 verifications, 500 run ends) are loaded onto a
queue, then the consumer (`python -m status_consumer`, a separate process) is started and timed
from the moment it is ready until the database holds the exact expected final state. Baselines on
the same 20,000 messages: a FastStream subscriber that only validates (floor) and a bare aio-pika
consumer that only acks (ceiling). Own database, queues and Redis prefix; all removed at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import redis.asyncio as aioredis
from faststream.rabbit import RabbitBroker, RabbitQueue
from faststream.rabbit.schemas import Channel

import store
from contracts import StatusMessage
from rita_testing import free_port
from rita_testing.workload import ConnectionRow, RunRow, copy_rows

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("DATABASE_URL", "postgresql+asyncpg://root@127.0.0.1:5432/rita")
AMQP = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
RUNS, VERIFICATIONS, TOTAL = 500, 1000, 20_000
STEPS = (TOTAL - VERIFICATIONS - RUNS) // RUNS  # progress messages per run (37)
PREFETCH = 600
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def db_url(name: str) -> str:
    return re.sub(r"/[^/]*$", f"/{name}", PG)


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def create_db(name: str) -> str:
    conn = await asyncpg.connect(dsn(db_url("postgres")))
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = db_url(name)
    await asyncio.to_thread(migrate, url)
    return url


def migrate(url: str) -> None:
    store.migrate(url)


async def drop_db(name: str) -> None:
    conn = await asyncpg.connect(dsn(db_url("postgres")))
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


Plan = dict[str, list[tuple[uuid.UUID, uuid.UUID, str]]]


async def seed(url: str, runs: int, verifications: int) -> Plan:
    """Syncing connections with a pending run each; verifying connections. Returns the ids."""
    plan: Plan = {"runs": [], "verify": []}
    conns: list[ConnectionRow] = []
    rows: list[RunRow] = []
    for i in range(runs):
        tenant, cid, rid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        end = "failed" if i % 10 == 0 else "completed"
        plan["runs"].append((tenant, rid, end))
        conns.append((cid, tenant, "jira_itsm", "J", "syncing"))
        rows.append((rid, tenant, cid))
    for i in range(verifications):
        tenant, cid = uuid.uuid4(), uuid.uuid4()
        plan["verify"].append((tenant, cid, "success" if i % 4 else "failed"))
        conns.append((cid, tenant, "jira_itsm", "J", "verifying"))
    await copy_rows(url, conns, rows)
    return plan


def messages(plan: Plan) -> list[bytes]:
    """Round-robin progress, verifications spread in, each run's end last."""
    out: list[dict[str, Any]] = []
    verify = list(plan["verify"])
    per_step = len(verify) // STEPS + 1
    for step in range(1, STEPS + 1):
        for n, (tenant, rid, _end) in enumerate(plan["runs"]):
            out.append(
                {
                    "type": "ticket_ingestion",
                    "tenant_id": str(tenant),
                    "ingestion_run_id": str(rid),
                    "status": "running",
                    "records_processed": step * 10,
                    "total_estimated": STEPS * 10,
                    "timestamp": (T0 + timedelta(seconds=step)).isoformat(),
                    **({"message_id": f"{rid}-{step}"} if n % 2 else {}),
                }
            )
        for tenant, cid, status in verify[:per_step]:
            out.append(
                {
                    "type": "verification",
                    "tenant_id": str(tenant),
                    "connection_id": str(cid),
                    "status": status,
                    "options": {"projects": [{"key": "OPS"}]} if status == "success" else None,
                    "error": None if status == "success" else "Invalid API token",
                }
            )
        verify = verify[per_step:]
    for tenant, rid, end in plan["runs"]:
        out.append(
            {
                "type": "ticket_ingestion",
                "tenant_id": str(tenant),
                "ingestion_run_id": str(rid),
                "status": end,
                "records_processed": STEPS * 10,
                "timestamp": (T0 + timedelta(seconds=STEPS + 1)).isoformat(),
                **({"error_message": "Jira unavailable"} if end == "failed" else {}),
            }
        )
    assert len(out) == TOTAL, len(out)
    return [json.dumps(m).encode() for m in out]


async def load(queue: str, bodies: list[bytes]) -> None:
    connection = await aio_pika.connect(AMQP)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(queue, durable=True)
        for i in range(0, len(bodies), 500):
            await asyncio.gather(
                *(
                    channel.default_exchange.publish(
                        aio_pika.Message(b, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                        routing_key=queue,
                    )
                    for b in bodies[i : i + 500]
                )
            )


async def delete_queues(*names: str) -> None:
    connection = await aio_pika.connect(AMQP)
    async with connection:
        for name in names:
            channel = await connection.channel()
            with contextlib.suppress(aio_pika.exceptions.ChannelClosed):
                await channel.queue_delete(name)


async def aio_pika_ceiling(queue: str, count: int) -> float:
    """Messages/s of a bare aio-pika consumer that only acknowledges."""
    connection = await aio_pika.connect(AMQP)
    done, seen = asyncio.Event(), 0
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=PREFETCH)
        q = await channel.declare_queue(queue, durable=True)

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal seen
            await message.ack()
            seen += 1
            if seen >= count:
                done.set()

        started = time.perf_counter()
        await q.consume(on_message)
        await done.wait()
        return count / (time.perf_counter() - started)


async def faststream_floor(queue: str, count: int) -> float:
    """Messages/s of a FastStream subscriber whose handler only validates the message."""
    broker = RabbitBroker(AMQP, default_channel=Channel(prefetch_count=PREFETCH), logger=None)
    done, seen = asyncio.Event(), 0

    @broker.subscriber(RabbitQueue(queue, durable=True))
    async def handle(body: StatusMessage) -> None:
        nonlocal seen
        seen += 1
        if seen >= count:
            done.set()

    started = time.perf_counter()
    await broker.start()
    await done.wait()
    elapsed = time.perf_counter() - started
    await broker.stop()
    return count / elapsed


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - loopback
            return int(r.status), r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


async def final_state_reached(conn: asyncpg.Connection) -> bool:
    ended = await conn.fetchval(
        "SELECT count(*) FROM ingestion_runs WHERE status IN ('completed', 'failed')"
    )
    idle = await conn.fetchval("SELECT count(*) FROM data_source_connections WHERE status = 'idle'")
    return bool(ended == RUNS and idle == RUNS + VERIFICATIONS)


async def check_exact(url: str, plan: Plan) -> None:
    conn = await asyncpg.connect(dsn(url))
    try:
        runs = {
            r["id"]: r
            for r in await conn.fetch("SELECT id, status, records_processed FROM ingestion_runs")
        }
        for _tenant, rid, end in plan["runs"]:
            assert (runs[rid]["status"], runs[rid]["records_processed"]) == (end, STEPS * 10)
        conns = {
            r["id"]: r
            for r in await conn.fetch("SELECT id, status, enabled FROM data_source_connections")
        }
        for _tenant, cid, status in plan["verify"]:
            assert (conns[cid]["status"], conns[cid]["enabled"]) == ("idle", status == "success")
    finally:
        await conn.close()


def p99_ms(before: str, after: str) -> float:
    """p99 (ms) of the age-at-commit histogram between two scrapes, interpolated in buckets."""
    pattern = re.compile(
        r'^status_consumer_message_age_at_commit_seconds_bucket\{le="([^"]+)"\} (\S+)$', re.M
    )

    def buckets(text: str) -> dict[str, float]:
        return {le: float(v) for le, v in pattern.findall(text)}

    b, a = buckets(before), buckets(after)
    edges = sorted(((float(le), a[le] - b.get(le, 0.0)) for le in a), key=lambda x: x[0])
    total = edges[-1][1]
    if total <= 0:
        return float("nan")
    target, low, low_count = 0.99 * total, 0.0, 0.0
    for le, cum in edges:
        if cum >= target:
            if le == float("inf"):
                return low * 1000
            share = (target - low_count) / max(cum - low_count, 1e-9)
            return (low + (le - low) * share) * 1000
        low, low_count = le, cum
    return low * 1000


async def latency_phase(url: str, queue: str, port: int) -> float:
    """Paced progress messages (~1,000/s for 4 s) for fresh runs; p99 timestamp→commit in ms."""
    plan = await seed(url, 100, 0)
    before = (await asyncio.to_thread(http_get, f"http://127.0.0.1:{port}/metrics"))[1]
    connection = await aio_pika.connect(AMQP)
    async with connection:
        channel = await connection.channel()
        for step in range(1, 41):
            now = datetime.now(UTC).isoformat()
            await asyncio.gather(
                *(
                    channel.default_exchange.publish(
                        aio_pika.Message(
                            json.dumps(
                                {
                                    "type": "ticket_ingestion",
                                    "tenant_id": str(tenant),
                                    "ingestion_run_id": str(rid),
                                    "status": "running",
                                    "records_processed": step,
                                    "timestamp": now,
                                }
                            ).encode(),
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key=queue,
                    )
                    for tenant, rid, _ in plan["runs"]
                )
            )
            await asyncio.sleep(0.1)
    conn = await asyncpg.connect(dsn(url))
    ids = [rid for _t, rid, _e in plan["runs"]]
    deadline = time.monotonic() + 60
    while await conn.fetchval(
        "SELECT count(*) FROM ingestion_runs WHERE id = ANY($1) AND records_processed = 40", ids
    ) < len(ids):
        assert time.monotonic() < deadline, "latency phase did not finish"
        await asyncio.sleep(0.05)
    await conn.close()
    after = (await asyncio.to_thread(http_get, f"http://127.0.0.1:{port}/metrics"))[1]
    return p99_ms(before, after)


def spawn(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "status_consumer"], env=env, stdout=subprocess.DEVNULL
    )


async def consumer_run(url: str, queue: str, prefix: str, plan: Plan) -> tuple[float, float]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "RABBITMQ_URL": AMQP,
        "REDIS_URL": REDIS,
        "STATUS_QUEUE": queue,
        "EVENTS_KEY_PREFIX": prefix,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "PREFETCH_COUNT": str(PREFETCH),
    }
    process = spawn(env)
    try:
        deadline = time.monotonic() + 60
        while (await asyncio.to_thread(http_get, f"http://127.0.0.1:{port}/readyz"))[0] != 200:
            assert time.monotonic() < deadline, "consumer did not become ready"
            await asyncio.sleep(0.01)
        # One polling connection, opened before the clock starts: a new PostgreSQL connection
        # per poll (a backend fork every 20 ms) would take CPU from the consumer being measured.
        poll = await asyncpg.connect(dsn(url))
        try:
            started = time.perf_counter()
            while not await final_state_reached(poll):
                assert time.perf_counter() - started < 240, "consumer did not finish"
                await asyncio.sleep(0.02)
            rate = TOTAL / (time.perf_counter() - started)
        finally:
            await poll.close()
        await check_exact(url, plan)
        p99 = await latency_phase(url, queue, port)
        return rate, p99
    finally:
        process.terminate()
        process.wait(timeout=30)


async def clean_redis(prefix: str) -> None:
    client = aioredis.from_url(REDIS)
    async for key in client.scan_iter(match=f"{prefix}*", count=500):
        await client.delete(key)
    await client.aclose()


async def main() -> None:
    tag = uuid.uuid4().hex[:8]
    name, prefix = f"bench_consumer_{tag}", f"bench:consumer:{tag}:"
    queues = {k: f"bench.consumer.{tag}.{k}" for k in ("pika", "floor", "consumer")}
    url = await create_db(name)
    try:
        plan = await seed(url, RUNS, VERIFICATIONS)
        bodies = messages(plan)
        for q in queues.values():
            await load(q, bodies)
        ceiling = await aio_pika_ceiling(queues["pika"], TOTAL)
        floor = await faststream_floor(queues["floor"], TOTAL)
        rate, p99 = await consumer_run(url, queues["consumer"], prefix, plan)
    finally:
        await delete_queues(*queues.values(), f"{queues['consumer']}.dlq")
        await drop_db(name)
        await clean_redis(prefix)
    print(
        f"# {TOTAL} messages; ceiling {ceiling:.0f}/s, floor {floor:.0f}/s, consumer {rate:.0f}/s"
    )
    print(
        f"RESULT consumer_throughput value={rate:.0f} baseline={floor:.0f} "
        f"ratio={rate / floor:.2f} unit=msg/s"
    )
    print(
        f"RESULT consumer_vs_broker value={rate:.0f} baseline={ceiling:.0f} "
        f"ratio={rate / ceiling:.2f} unit=msg/s"
    )
    print(f"RESULT consumer_publish_to_commit_p99 value={p99:.1f} baseline=- ratio=- unit=ms")


if __name__ == "__main__":
    asyncio.run(main())
