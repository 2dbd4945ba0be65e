"""rita-ops against the real servers: its own queue names, Redis prefix, migrated database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aio_pika
import pytest
import sqlalchemy as sa
from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from rita_ops.cli import app

JWT_SECRET = "ops-test-jwt-secret-0123456789abcdef-not-real"


@dataclass(frozen=True)
class Ops:
    """The environment of one test's `rita-ops` and helpers around it."""

    env: dict[str, str]
    status_queue: str

    @property
    def dlq(self) -> str:
        return f"{self.status_queue}.dlq"

    def __call__(self, *args: str, extra_env: dict[str, str] | None = None) -> Any:
        return CliRunner().invoke(app, list(args), env={**self.env, **(extra_env or {})})


def run(factory: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return asyncio.run(factory())


@pytest.fixture
def ops(
    rita_database_url: str, rabbitmq_url: str, redis_url: str, queue_name: str, redis_prefix: str
) -> Ops:
    return Ops(
        env={
            "DATABASE_URL": rita_database_url,
            "RABBITMQ_URL": rabbitmq_url,
            "REDIS_URL": redis_url,
            "STATUS_QUEUE": queue_name,
            "EVENTS_KEY_PREFIX": redis_prefix,
            "AUTH_JWT_SECRET": JWT_SECRET,
            "AUTH_DEV_MODE": "false",
        },
        status_queue=queue_name,
    )


async def execute(url: str, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    """One statement in its own transaction; the rows it returns."""
    engine = create_async_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(sa.text(sql), params or {})
            return list(result.all()) if result.returns_rows else []
    finally:
        await engine.dispose()


@pytest.fixture
def sql(rita_database_url: str) -> Callable[..., list[Any]]:
    """`sql(statement, **params)` against the test database."""

    def _sql(statement: str, **params: Any) -> list[Any]:
        rows: list[Any] = run(lambda: execute(rita_database_url, statement, params))
        return rows

    return _sql


@dataclass(frozen=True)
class Seeded:
    tenant: uuid.UUID
    connection: uuid.UUID


@pytest.fixture
def seed(sql: Callable[..., list[Any]]) -> Callable[..., Seeded]:
    """`seed(status=..., enabled=...)`: a jira_itsm connection of a new tenant."""

    def _seed(status: str = "idle", enabled: bool = True) -> Seeded:
        tenant, connection = uuid.uuid4(), uuid.uuid4()
        sql(
            "INSERT INTO data_source_connections (id, tenant_id, type, name, status, enabled,"
            " version, settings) VALUES (:id, :t, 'jira_itsm', 'Jira', :s, :e, 1,"
            ' \'{"base_url": "https://acme.atlassian.net", "email": "a@acme.test"}\')',
            id=connection,
            t=tenant,
            s=status,
            e=enabled,
        )
        return Seeded(tenant, connection)

    return _seed


@dataclass(frozen=True)
class Broker:
    """The real RabbitMQ, for setting up and reading back a test's queues."""

    url: str

    def publish(self, queue: str, messages: list[aio_pika.Message]) -> None:
        """Declare `queue` (durable) and publish `messages` to it with confirms."""

        async def work() -> None:
            connection = await aio_pika.connect(self.url)
            async with connection:
                channel = await connection.channel(publisher_confirms=True)
                await channel.declare_queue(queue, durable=True)
                for message in messages:
                    await channel.default_exchange.publish(message, routing_key=queue)

        run(work)

    def drain(self, queue: str) -> list[AbstractIncomingMessage]:
        """Consume every message now in `queue`, in order."""

        async def work() -> list[AbstractIncomingMessage]:
            taken = []
            connection = await aio_pika.connect(self.url)
            async with connection:
                channel = await connection.channel()
                declared = await channel.declare_queue(queue, durable=True)
                while (message := await declared.get(no_ack=True, fail=False)) is not None:
                    taken.append(message)
            return taken

        result: list[AbstractIncomingMessage] = run(work)
        return result

    def depth(self, queue: str) -> int:
        """Messages ready in `queue`."""

        async def work() -> int:
            connection = await aio_pika.connect(self.url)
            async with connection:
                channel = await connection.channel()
                declared = await channel.declare_queue(queue, durable=True)
                return int(declared.declaration_result.message_count or 0)

        count: int = run(work)
        return count


@pytest.fixture
def broker(rabbitmq_url: str) -> Broker:
    return Broker(rabbitmq_url)
