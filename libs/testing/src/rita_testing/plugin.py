"""The pytest plugin: per-run databases, queue names and Redis prefixes, cleaned up afterwards.

Every name carries a run id, so parallel runs (and xdist workers) never share state.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import asyncpg
import pytest
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster as ClusterClient

import store
from events import connect_redis
from rita_testing.redis_servers import RedisCluster
from rita_testing.servers import (
    DEFAULT_DATABASE_URL,
    DEFAULT_RABBITMQ_URL,
    DEFAULT_REDIS_URL,
    ServerUnavailable,
    asyncpg_dsn,
    resolve_server,
    run_async,
    stop_containers,
    with_database,
)


def _resolve_or_exit(kind: str, env_name: str, default: str, port: int) -> str:
    try:
        return resolve_server(kind, env_name, default, port)
    except ServerUnavailable as exc:
        pytest.exit(str(exc), returncode=3)


@pytest.fixture(scope="session")
def run_id() -> str:
    """Short id unique to this test process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{uuid.uuid4().hex[:10]}_{worker}"


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """SQLAlchemy URL of the PostgreSQL server (its own database part is not used)."""
    yield _resolve_or_exit("postgres", "DATABASE_URL", DEFAULT_DATABASE_URL, 5432)
    stop_containers()


async def _create_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(with_database(server_url, "postgres")))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _copy_database(server_url: str, name: str, template: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(with_database(server_url, "postgres")))
    try:
        # WAL_LOG (PostgreSQL 15's default) copies a small database in ~0.2 s; FILE_COPY
        # forces a checkpoint and took ~3 s on this machine.
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY WAL_LOG')
    finally:
        await conn.close()


async def _drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(with_database(server_url, "postgres")))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _drop(server_url: str, name: str) -> None:
    run_async(lambda: _drop_database(server_url, name))


@pytest.fixture(scope="session")
def database_factory(postgres_server_url: str, run_id: str) -> Iterator[Callable[..., str]]:
    """`factory(hint, template_url=None)` creates a fresh database (empty, or a copy of the
    template's) and returns its URL; all are dropped at the end of the session."""
    created: list[str] = []

    def factory(hint: str = "db", template_url: str | None = None) -> str:
        name = f"test_{hint}_{run_id}_{len(created)}".lower()
        if template_url is None:
            run_async(lambda: _create_database(postgres_server_url, name))
        else:
            template = urlsplit(template_url).path.lstrip("/")
            run_async(lambda: _copy_database(postgres_server_url, name, template))
        created.append(name)
        return with_database(postgres_server_url, name)

    yield factory
    for name in created:
        _drop(postgres_server_url, name)


@pytest.fixture(scope="session")
def database_url(database_factory: Callable[[str], str]) -> str:
    """A fresh, empty PostgreSQL database for this test session (dropped at the end)."""
    return database_factory("rita")


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """URL of the RabbitMQ server."""
    return _resolve_or_exit("rabbitmq", "RABBITMQ_URL", DEFAULT_RABBITMQ_URL, 5672)


async def _delete_queues(url: str, names: list[str]) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        for name in names:
            channel = await connection.channel()
            # A queue the test never declared closes the channel: nothing to clean.
            with contextlib.suppress(aio_pika.exceptions.ChannelClosed):
                await channel.queue_delete(name)


def _unique_queue(rabbitmq_url: str, run_id: str) -> Iterator[str]:
    name = f"test.{run_id}.{uuid.uuid4().hex[:8]}"
    yield name
    run_async(lambda: _delete_queues(rabbitmq_url, [name, f"{name}.dlq"]))


@pytest.fixture
def queue_name(rabbitmq_url: str, run_id: str) -> Iterator[str]:
    """A unique queue name; the queue and its `.dlq` are deleted after the test."""
    yield from _unique_queue(rabbitmq_url, run_id)


@pytest.fixture(scope="session")
def session_queue_name(rabbitmq_url: str, run_id: str) -> Iterator[str]:
    """`queue_name` for session fixtures (e.g. a whole system started once)."""
    yield from _unique_queue(rabbitmq_url, run_id)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the Redis server."""
    return _resolve_or_exit("redis", "REDIS_URL", DEFAULT_REDIS_URL, 6379)


async def _delete_prefixed(url: str, prefix: str) -> None:
    client = aioredis.from_url(url)
    try:
        async for key in client.scan_iter(match=f"{prefix}*", count=500):
            await client.delete(key)
    finally:
        await client.aclose()


def _unique_prefix(redis_url: str, run_id: str) -> Iterator[str]:
    prefix = f"test:{run_id}:{uuid.uuid4().hex[:8]}:"
    yield prefix
    run_async(lambda: _delete_prefixed(redis_url, prefix))


@pytest.fixture
def redis_prefix(redis_url: str, run_id: str) -> Iterator[str]:
    """A unique key prefix (ending in `:`); every key under it is deleted after the test."""
    yield from _unique_prefix(redis_url, run_id)


@pytest.fixture(scope="session")
def session_redis_prefix(redis_url: str, run_id: str) -> Iterator[str]:
    """`redis_prefix` for session fixtures."""
    yield from _unique_prefix(redis_url, run_id)


@pytest.fixture(scope="module")
async def redis_cluster() -> AsyncIterator[RedisCluster]:
    """A three-node Redis Cluster of this test module's own (`.url`, `.nodes` to stop one)."""
    async with RedisCluster() as started:
        yield started


@pytest.fixture
async def redis_cluster_client(redis_cluster: RedisCluster) -> AsyncIterator[ClusterClient]:
    """A cluster client of `redis_cluster` (`events.connect_redis(cluster=True)`); a node the
    test stopped fails its calls within a second instead of waiting on the connect."""
    client = connect_redis(redis_cluster.url, cluster=True, socket_connect_timeout=1)
    if not isinstance(client, ClusterClient):
        raise TypeError(f"connect_redis(cluster=True) gave a {type(client).__name__}")
    await client.initialize()
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def rita_database_url(database_factory: Callable[[str], str]) -> str:
    """A fresh database migrated to the schema's head (`store.migrate`); dropped at the end."""
    url = database_factory("schema")
    store.migrate(url)
    return url


@pytest.fixture(scope="session")
def rita_template_url(database_factory: Callable[..., str]) -> str:
    """A database migrated to head that no test connects to: the template of the module copies."""
    url = database_factory("template")
    store.migrate(url)
    return url


@pytest.fixture(scope="module")
def module_database_url(database_factory: Callable[..., str], rita_template_url: str) -> str:
    """A migrated database of this test module alone (`CREATE DATABASE ... TEMPLATE` of the
    migrated template): no other module sees its rows, its outbox, its relay or its faults."""
    return database_factory("module", rita_template_url)


@pytest.fixture
def no_real_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything in this process resolves a name with the real resolver.

    Tests never send traffic beyond loopback, DNS queries included (the system's resolver is
    not on loopback): SSRF and DNS cases use stub resolvers. IP literals and `localhost` pass.
    """
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host or "")
        try:
            ipaddress.ip_address(name.split("%", 1)[0])
        except ValueError:
            if name not in {"", "localhost"}:
                raise AssertionError(f"a test resolved {name!r} with the real resolver") from None
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
