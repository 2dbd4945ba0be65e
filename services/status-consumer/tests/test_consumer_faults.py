"""Faults: the consumer process killed with SIGKILL mid-stream, and a PostgreSQL outage."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
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
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from rita_testing import asyncpg_dsn
from status_consumer.app import create_app
from status_consumer.config import Settings
from store.testing import insert_syncing_runs

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STEPS = 40  # progress messages per run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback test URL
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


async def until_true(check: Any, within: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not reached in time")
        await asyncio.sleep(0.05)


@dataclass(frozen=True)
class Servers:
    database_url: str
    rabbitmq_url: str
    redis_url: str
    redis_prefix: str
    queue: str


@pytest.fixture
def servers(
    rita_database_url: str, rabbitmq_url: str, redis_url: str, redis_prefix: str, queue_name: str
) -> Servers:
    return Servers(rita_database_url, rabbitmq_url, redis_url, redis_prefix, queue_name)


@pytest.fixture
async def engine(rita_database_url: str) -> AsyncIterator[AsyncEngine]:
    e = create_async_engine(rita_database_url, pool_pre_ping=True)
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


async def test_sigkill_mid_stream_then_restart_reaches_exact_state(
    engine: AsyncEngine, servers: Servers, tmp_path: Path
) -> None:
    rita_database_url, rabbitmq_url, redis_url = (
        servers.database_url,
        servers.rabbitmq_url,
        servers.redis_url,
    )
    redis_prefix, queue_name = servers.redis_prefix, servers.queue
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": rita_database_url,
        "RABBITMQ_URL": rabbitmq_url,
        "REDIS_URL": redis_url,
        "STATUS_QUEUE": queue_name,
        "EVENTS_KEY_PREFIX": redis_prefix,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "INFO",
        # Small batches: the kill lands between many commits.
        "BATCH_MAX_SIZE": "50",
        "PREFETCH_COUNT": "100",
    }
    made = await seed_runs(engine, 40)
    bodies = stream(made)
    half = len(bodies) // 2
    await publish(rabbitmq_url, queue_name, bodies[:half])
    ready = f"http://127.0.0.1:{port}/readyz"

    first = start_consumer(env)
    try:

        async def is_ready() -> bool:
            return await asyncio.to_thread(http_status, ready) == 200

        await until_true(is_ready, 60, "first consumer ready")

        async def some_progress() -> bool:
            async with engine.connect() as c:
                n = await c.execute(
                    sa.text(
                        "SELECT count(*) FROM ingestion_runs"
                        " WHERE records_processed > 0 AND id = ANY(:ids)"
                    ),
                    {"ids": [rid for _t, _c, rid in made]},
                )
                return int(n.scalar_one()) > 0

        await until_true(some_progress, 30, "first progress")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    # The rest of the stream arrives while no consumer runs.
    await publish(rabbitmq_url, queue_name, bodies[half:])
    assert await completed_count(engine, made) < len(made)

    log_path = tmp_path / "second.log"
    log_file = log_path.open("wb")
    second = start_consumer(env, log_file)
    try:

        async def all_done() -> bool:
            return await completed_count(engine, made) == len(made) and (
                await queue_depth(rabbitmq_url, queue_name) == 0
            )

        await until_true(all_done, 90, "all runs completed after restart")
        assert await asyncio.to_thread(http_status, f"http://127.0.0.1:{port}/healthz") == 200
        assert await asyncio.to_thread(http_status, ready) == 200
        second.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal after its graceful shutdown.
        assert second.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if second.poll() is None:
            second.kill()
        log_file.close()
    assert '"event": "consumer_stopped"' in log_path.read_text()
    await assert_exact_final_state(engine, made)
    assert await queue_depth(rabbitmq_url, f"{queue_name}.dlq") == 0


async def test_database_outage_mid_stream_loses_nothing(
    engine: AsyncEngine, servers: Servers
) -> None:
    rita_database_url, rabbitmq_url, redis_url = (
        servers.database_url,
        servers.rabbitmq_url,
        servers.redis_url,
    )
    redis_prefix, queue_name = servers.redis_prefix, servers.queue
    made = await seed_runs(engine, 20)
    bodies = stream(made)
    settings = Settings(
        database_url=rita_database_url,
        rabbitmq_url=rabbitmq_url,
        redis_url=redis_url,
        status_queue=queue_name,
        events_key_prefix=redis_prefix,
        batch_max_size=40,
        retry_max_backoff=0.3,
    )
    app = create_app(settings)
    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        async with app.start_lifespan_context():
            started.set()
            await stop.wait()

    task = asyncio.create_task(serve())
    killer = await asyncpg.connect(asyncpg_dsn(rita_database_url))
    try:
        await asyncio.wait_for(started.wait(), 30)
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

        await until_true(all_done, 90, "all runs completed after the outages")
    finally:
        await killer.close()
        stop.set()
        await task
    await assert_exact_final_state(engine, made)
    assert await queue_depth(rabbitmq_url, f"{queue_name}.dlq") == 0
