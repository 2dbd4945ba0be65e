"""Fixtures of itsm-sync's tests: a migrated database, settings, a running service, webhooks."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aio_pika
import httpx
import pytest
from sqlalchemy import text

from itsm_sync.config import Settings
from itsm_sync.migrate import migrate
from itsm_sync.service import Service
from rita_testing.itsm_sync import Collector, asgi_client
from rita_testing.webhooks import signed_headers

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"itsm-sync-test-webhook-secret-32b").decode()
WEBHOOK_AUTH = "Bearer itsm-sync-test-auth"
ENCRYPTION_KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture(scope="session")
def sync_database_url(database_factory: Callable[[str], str]) -> str:
    """A migrated itsm-sync database shared by the session (tests use unique ids)."""
    url = database_factory("itsm_sync")
    migrate(url)
    return url


@pytest.fixture
def make_settings(
    sync_database_url: str, rabbitmq_url: str, queue_name: str
) -> Callable[..., Settings]:
    """Settings for one test; keyword arguments override fields."""

    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "itsm_sync_database_url": sync_database_url,
            "rabbitmq_url": rabbitmq_url,
            "status_queue": queue_name,
            "sync_webhook_secret": WEBHOOK_SECRET,
            "sync_webhook_auth": WEBHOOK_AUTH,
            "itsm_sync_encryption_key": ENCRYPTION_KEY,
            "itsm_sync_shutdown_grace": 2.0,
            "itsm_sync_max_backoff": 2.0,
            **overrides,
        }
        return Settings.model_validate(values)

    return factory


@pytest.fixture
async def service(make_settings: Callable[..., Settings]) -> AsyncIterator[Service]:
    """A started service (no resume: other tests' runs share the database)."""
    svc = Service(make_settings())
    await svc.start(resume=False)
    yield svc
    await svc.stop()


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP client on the service's ASGI app."""
    async with asgi_client(service) as http:
        yield http


def signed(
    body: bytes, *, secret: str = WEBHOOK_SECRET, auth: str = WEBHOOK_AUTH, **options: Any
) -> dict[str, str]:
    """Headers Rita's API would send with `body` (the test secrets by default)."""
    return signed_headers(body, secret, authorization=auth, **options)


@pytest.fixture
def sign() -> Callable[..., dict[str, str]]:
    """`sign(body, **options)` → signed webhook headers."""
    return signed


@pytest.fixture
async def messages(rabbitmq_url: str, queue_name: str) -> AsyncIterator[Collector]:
    """`await messages(done, timeout)`: every message on the test queue until `done(all)`."""
    connection = await aio_pika.connect(rabbitmq_url)
    channel = await connection.channel()
    queue = await channel.declare_queue(queue_name, durable=True)
    received: list[dict[str, Any]] = []

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            body = json.loads(message.body)
            body["_delivery_mode"] = int(message.delivery_mode or 0)
            body["_amqp_message_id"] = message.message_id
            received.append(body)

    await queue.consume(on_message)

    async def collect(
        done: Callable[[list[dict[str, Any]]], bool], within: float
    ) -> list[dict[str, Any]]:
        deadline = asyncio.get_running_loop().time() + within
        while not done(received):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"condition not met within {within}s; got {received[-3:]}")
            await asyncio.sleep(0.02)
        return list(received)

    yield collect
    await connection.close()


def new_ids() -> dict[str, str]:
    """Fresh tenant, connection and user ids."""
    return {
        "tenant_id": str(uuid.uuid4()),
        "connection_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
    }


@pytest.fixture
def secrets() -> dict[str, str]:
    """The webhook secret, Authorization value and encryption key the test settings use."""
    return {"webhook": WEBHOOK_SECRET, "auth": WEBHOOK_AUTH, "key": ENCRYPTION_KEY}


@pytest.fixture
def ids() -> dict[str, str]:
    """Fresh ids for one test."""
    return new_ids()


@pytest.fixture(autouse=True)
def _no_real_dns(no_real_dns: None) -> None:
    """Hosts in these tests are loopback literals or stubs: a real DNS lookup fails the test."""


async def _scan_database(svc: Service, needle: str) -> list[str]:
    """Every text/json column of every table that contains `needle` (and bytea in clear)."""
    hits: list[str] = []
    async with svc.deps.store.sessions() as session:
        columns = await session.execute(
            text(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public'"
            )
        )
        for table, column, data_type in columns.all():
            if data_type == "bytea":
                where = f"position(convert_to(:needle, 'UTF8') in \"{column}\") > 0"
            else:
                where = f"\"{column}\"::text LIKE '%' || :needle || '%'"
            found = await session.execute(
                text(f'SELECT count(*) FROM "{table}" WHERE {where}'),  # noqa: S608 - catalog names
                {"needle": needle},
            )
            if found.scalar_one():
                hits.append(f"{table}.{column}")
    return hits


ScanDatabase = Callable[[Service, str], Awaitable[list[str]]]


@pytest.fixture
def scan_database() -> ScanDatabase:
    """`scan(svc, needle)`: every text/json column (and bytea in clear) that contains `needle`."""
    return _scan_database
