"""Smoke tests: each server is really reached, and the per-run names are unique and cleaned."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import aio_pika
import asyncpg
import redis.asyncio as aioredis

from rita_testing import asyncpg_dsn


async def test_postgres_fresh_database_is_reached(database_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        name = await conn.fetchval("SELECT current_database()")
        tables = await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
    finally:
        await conn.close()
    assert name == database_url.rsplit("/", 1)[1]
    assert name.startswith("test_rita_")
    assert tables == 0


async def test_rabbitmq_round_trips_a_message_on_a_unique_queue(
    rabbitmq_url: str, queue_name: str
) -> None:
    body = uuid.uuid4().bytes
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True)
        await channel.default_exchange.publish(aio_pika.Message(body), routing_key=queue_name)
        message = await queue.get(timeout=5, fail=True)
        assert message is not None
        await message.ack()
    assert message.body == body


async def test_redis_round_trips_under_a_unique_prefix(redis_url: str, redis_prefix: str) -> None:
    client = aioredis.from_url(redis_url)
    try:
        await client.set(f"{redis_prefix}k", "v")
        value = await client.get(f"{redis_prefix}k")
        info = await client.info("server")
    finally:
        await client.aclose()
    assert value == b"v"
    assert str(info["redis_version"]).startswith(("6", "7", "8"))
    assert redis_prefix.startswith("test:")


async def test_database_factory_gives_distinct_databases(
    database_factory: Callable[[str], str],
) -> None:
    first, second = database_factory("a"), database_factory("b")
    one = await asyncpg.connect(asyncpg_dsn(first))
    two = await asyncpg.connect(asyncpg_dsn(second))
    try:
        # Two real, separate databases: a table made in one is not seen in the other.
        await one.execute("CREATE TABLE only_in_first (x int)")
        names = (
            await one.fetchval("SELECT current_database()"),
            await two.fetchval("SELECT current_database()"),
        )
        seen = await two.fetchval("SELECT to_regclass('only_in_first') IS NOT NULL")
    finally:
        await one.close()
        await two.close()
    assert names[0] != names[1]
    assert all(name.startswith(("test_a_", "test_b_")) for name in names)
    assert seen is False
