"""Faults: SIGKILL mid-batch, PostgreSQL connections cut, Redis down (a Redis of the test's own)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import aio_pika
import asyncpg
import pytest
import sqlalchemy as sa
from faststream.asgi import AsgiFastStream
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from contracts import EventName, tenant_events_key
from events import decode_stream_entry
from rita_testing import asyncpg_dsn, eventually, free_port, lifespan_running
from rita_testing.redis_servers import RedisServer
from rita_testing.rows import insert_syncing_runs
from status_consumer.app import create_app
from status_consumer.config import Settings

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STEPS = 40  # progress messages per run


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback test URL
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


def http_status(url: str) -> int:
    return http_get(url)[0]


@dataclass(frozen=True)
class Servers:
    database_url: str
    rabbitmq_url: str
    redis_url: str
    redis_prefix: str
    queue: str


@pytest.fixture
def servers(
    module_database_url: str, rabbitmq_url: str, redis_url: str, redis_prefix: str, queue_name: str
) -> Servers:
    return Servers(module_database_url, rabbitmq_url, redis_url, redis_prefix, queue_name)


@pytest.fixture
async def engine(module_database_url: str) -> AsyncIterator[AsyncEngine]:
    e = create_async_engine(module_database_url, pool_pre_ping=True)
    yield e
    await e.dispose()


async def seed_runs(engine: AsyncEngine, count: int) -> list[tuple[UUID, UUID, UUID]]:
    return await insert_syncing_runs(engine, count)


def stream(made: list[tuple[UUID, UUID, UUID]]) -> list[bytes]:
    """Round-robin progress for every run, then each run's end (half of them with message ids)."""
    bodies: list[bytes] = []
    for step in range(1, STEPS + 2):
        for i, (tenant, _cid, rid) in enumerate(made):
            body: dict[str, Any] = {
                "type": "ticket_ingestion",
                "tenant_id": str(tenant),
                "ingestion_run_id": str(rid),
                "status": "running" if step <= STEPS else "completed",
                "records_processed": min(step, STEPS) * 10,
                "timestamp": (T0 + timedelta(seconds=step)).isoformat(),
            }
            if i % 2:
                body["message_id"] = f"{rid}-{step}"
            bodies.append(json.dumps(body).encode())
    return bodies


async def publish(url: str, queue: str, bodies: list[bytes]) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(queue, durable=True)
        for body in bodies:
            await channel.default_exchange.publish(
                aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=queue,
            )


async def queue_depth(url: str, queue: str) -> int:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, durable=True)
        return int(declared.declaration_result.message_count or 0)


async def completed_count(engine: AsyncEngine, made: list[tuple[UUID, UUID, UUID]]) -> int:
    async with engine.connect() as c:
        result = await c.execute(
            sa.text(
                "SELECT count(*) FROM ingestion_runs WHERE id = ANY(:ids) AND status = 'completed'"
            ),
            {"ids": [rid for _t, _c, rid in made]},
        )
        return int(result.scalar_one())


async def assert_exact_final_state(
    engine: AsyncEngine, made: list[tuple[UUID, UUID, UUID]]
) -> None:
    async with engine.connect() as c:
        for _tenant, cid, rid in made:
            run = (
                await c.execute(sa.text("SELECT * FROM ingestion_runs WHERE id=:i"), {"i": rid})
            ).one()
            conn = (
                await c.execute(
                    sa.text("SELECT * FROM data_source_connections WHERE id=:i"), {"i": cid}
                )
            ).one()
            assert (run.status, run.records_processed) == ("completed", STEPS * 10)
            assert run.completed_at == T0 + timedelta(seconds=STEPS + 1)
            assert run.started_at == T0 + timedelta(seconds=1)
            assert (conn.status, conn.last_sync_status, conn.version) == ("idle", "completed", 2)
            assert conn.last_sync_at == run.completed_at


def start_consumer(env: dict[str, str], log: Any = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "status_consumer"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def committed_messages(metrics: str) -> float:
    """`status_consumer_messages_total{type="ticket_ingestion",outcome="committed"}` from /metrics
    (counted after the batch's acks were sent)."""
    found = re.search(
        r'^status_consumer_messages_total\{outcome="committed",type="ticket_ingestion"\} (\S+)$',
        metrics,
        re.M,
    )
    return float(found.group(1)) if found else 0.0


async def records_per_run(engine: AsyncEngine, made: list[tuple[UUID, UUID, UUID]]) -> set[int]:
    async with engine.connect() as c:
        result = await c.execute(
            sa.text("SELECT records_processed FROM ingestion_runs WHERE id = ANY(:ids)"),
            {"ids": [rid for _t, _c, rid in made]},
        )
        return {int(r[0]) for r in result}


async def test_sigkill_mid_batch_then_restart_reaches_exact_state(
    engine: AsyncEngine, servers: Servers, tmp_path: Path
) -> None:
    """Killed at a known point: 5 steps committed and acked, the next batch inside its
    transaction (held on a row lock of the test's), the rest delivered but unacknowledged."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": servers.database_url,
        "RABBITMQ_URL": servers.rabbitmq_url,
        "REDIS_URL": servers.redis_url,
        "STATUS_QUEUE": servers.queue,
        "EVENTS_KEY_PREFIX": servers.redis_prefix,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "INFO",
        "BATCH_MAX_SIZE": "50",
        "PREFETCH_COUNT": "100",
    }
    made = await seed_runs(engine, 40)
    bodies = stream(made)
    first_steps, half = 5 * len(made), len(bodies) // 2
    await publish(servers.rabbitmq_url, servers.queue, bodies[:first_steps])
    base = f"http://127.0.0.1:{port}"
    locker = await asyncpg.connect(asyncpg_dsn(servers.database_url))
    first = start_consumer(env)
    try:

        async def is_ready() -> bool:
            return await asyncio.to_thread(http_status, f"{base}/readyz") == 200

        await eventually(is_ready, 60, what="first consumer ready")

        async def first_steps_acked() -> bool:
            metrics = (await asyncio.to_thread(http_get, f"{base}/metrics"))[1]
            return committed_messages(metrics) == first_steps

        await eventually(first_steps_acked, 60, what="the first five steps committed and acked")
        assert await records_per_run(engine, made) == {50}
        # Hold the first run's row: the next batch (every batch names every run) blocks in its
        # transaction, after its UPDATE of the other runs.
        await locker.execute("BEGIN")
        await locker.execute("SELECT 1 FROM ingestion_runs WHERE id = $1 FOR UPDATE", made[0][2])
        locker_pid = await locker.fetchval("SELECT pg_backend_pid()")
        await publish(servers.rabbitmq_url, servers.queue, bodies[first_steps:half])

        async def batch_blocked() -> bool:
            waiting = await locker.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                locker_pid,
            )
            return bool(waiting == 1)

        await eventually(batch_blocked, 30, what="a batch waiting on the test's lock")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    # Nothing of the batch in flight is committed, and every delivery not acked is back.
    assert await records_per_run(engine, made) == {50}
    pending = half - first_steps

    async def requeued() -> bool:
        return await queue_depth(servers.rabbitmq_url, servers.queue) == pending

    await eventually(requeued, 30, what=f"{pending} unacknowledged deliveries back on the queue")
    await locker.execute("ROLLBACK")  # the killed consumer's transaction can now end (aborted)
    await locker.close()
    assert await records_per_run(engine, made) == {50}
    # The rest of the stream arrives while no consumer runs.
    await publish(servers.rabbitmq_url, servers.queue, bodies[half:])

    log_path = tmp_path / "second.log"
    with log_path.open("wb") as log_file:
        second = start_consumer(env, log_file)
        try:

            async def all_done() -> bool:
                return await completed_count(engine, made) == len(made) and (
                    await queue_depth(servers.rabbitmq_url, servers.queue) == 0
                )

            await eventually(all_done, 90, what="all runs completed after restart")
            assert await asyncio.to_thread(http_status, f"{base}/healthz") == 200
            assert await asyncio.to_thread(http_status, f"{base}/readyz") == 200
            second.send_signal(signal.SIGTERM)
            # uvicorn re-raises the signal after its graceful shutdown.
            assert second.wait(timeout=30) in (0, -signal.SIGTERM)
        finally:
            if second.poll() is None:
                second.kill()
    assert '"event": "consumer_stopped"' in log_path.read_text()
    await assert_exact_final_state(engine, made)
    assert await queue_depth(servers.rabbitmq_url, f"{servers.queue}.dlq") == 0


async def test_database_outage_mid_stream_loses_nothing(
    engine: AsyncEngine, servers: Servers
) -> None:
    module_database_url, rabbitmq_url, redis_url = (
        servers.database_url,
        servers.rabbitmq_url,
        servers.redis_url,
    )
    redis_prefix, queue_name = servers.redis_prefix, servers.queue
    made = await seed_runs(engine, 20)
    bodies = stream(made)
    settings = Settings(
        database_url=module_database_url,
        rabbitmq_url=rabbitmq_url,
        redis_url=redis_url,
        status_queue=queue_name,
        events_key_prefix=redis_prefix,
        batch_max_size=40,
        retry_max_backoff=0.3,
    )
    killer = await asyncpg.connect(asyncpg_dsn(module_database_url))
    try:
        async with lifespan_running(create_app(settings)):
            chunk = len(bodies) // 5
            for i in range(0, len(bodies), chunk):
                await publish(rabbitmq_url, queue_name, bodies[i : i + chunk])
                # Cut every other connection to this database, the consumer's included.
                await killer.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )

            async def all_done() -> bool:
                return await completed_count(engine, made) == len(made) and (
                    await queue_depth(rabbitmq_url, queue_name) == 0
                )

            await eventually(all_done, 90, what="all runs completed after the outages")
    finally:
        await killer.close()
    await assert_exact_final_state(engine, made)
    assert await queue_depth(rabbitmq_url, f"{queue_name}.dlq") == 0


def consumer_in_process(
    settings: Settings,
) -> contextlib.AbstractAsyncContextManager[AsgiFastStream]:
    return lifespan_running(create_app(settings))


def redis_retries() -> float:
    sample = REGISTRY.get_sample_value(
        "status_consumer_outage_retries_total", {"dependency": "redis"}
    )
    return sample or 0.0


async def test_redis_outage_events_resume_and_nothing_applies_twice(
    engine: AsyncEngine, servers: Servers, tmp_path: Path
) -> None:
    made = await seed_runs(engine, 20)
    bodies = stream(made)
    before_outage = STEPS * len(made)  # all progress; the runs' ends come while Redis is down
    # A Redis of the test's own that keeps its data across a restart; never the shared one.
    async with RedisServer(persistent=True) as own:
        redis_url = own.url
        redis = Redis.from_url(redis_url)
        settings = Settings(
            database_url=servers.database_url,
            rabbitmq_url=servers.rabbitmq_url,
            redis_url=redis_url,
            status_queue=servers.queue,
            events_key_prefix=servers.redis_prefix,
            batch_max_size=40,
            retry_max_backoff=0.2,
        )

        async def run_events(tenant: UUID) -> list[dict[str, Any]]:
            key = tenant_events_key(tenant, servers.redis_prefix)
            entries = await redis.xrange(key) or []
            decoded = [decode_stream_entry(i, f) for i, f in entries]
            return [e.data for e in decoded if e.event == EventName.INGESTION_RUN_UPDATE]

        async with consumer_in_process(settings):
            await publish(servers.rabbitmq_url, servers.queue, bodies[:before_outage])

            async def first_events_out() -> bool:
                for tenant, _cid, _rid in made:
                    events = await run_events(tenant)
                    if not events or events[-1]["records_processed"] != STEPS * 10:
                        return False
                return True

            await eventually(first_events_out, 30, what="events of every progress step")
            noticed = redis_retries()
            await own.stop()  # Redis down (killed; its data kept on disk)
            await publish(servers.rabbitmq_url, servers.queue, bodies[before_outage:])

            async def outage_seen() -> bool:
                # Long enough that a publisher giving up after a few tries would have given up.
                return redis_retries() >= noticed + 5

            await eventually(outage_seen, 30, what="the consumer waiting for Redis")
            await own.start()  # Redis back, same port and data

            async def all_done() -> bool:
                return await completed_count(engine, made) == len(made) and (
                    await queue_depth(servers.rabbitmq_url, servers.queue) == 0
                )

            await eventually(all_done, 60, what="all runs completed after Redis returned")

            async def final_events_out() -> bool:
                for tenant, _cid, _rid in made:
                    try:
                        events = await run_events(tenant)
                    except RedisError:  # this client's connection from before the restart
                        return False
                    if not events or events[-1]["status"] != "completed":
                        return False
                return True

            await eventually(final_events_out, 30, what="every run's final event")
        for tenant, _cid, _rid in made:
            events = await run_events(tenant)
            # The events from before the outage are still there, then the end committed while
            # Redis was down, published once it was back; no older state after a newer one.
            counts = [e["records_processed"] for e in events]
            assert counts == sorted(counts)
            assert [e["status"] for e in events][-2:] == ["running", "completed"]
        await redis.aclose()
    await assert_exact_final_state(engine, made)  # versions: each end applied exactly once
    assert await queue_depth(servers.rabbitmq_url, f"{servers.queue}.dlq") == 0
