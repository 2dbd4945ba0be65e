"""What the itsm-sync import benchmarks share: a scratch database, a status queue, an emulator's 429
count, and one whole import run through itsm-sync (signed webhooks in, tickets in PostgreSQL,
messages on RabbitMQ).

Used by `jira_import.py` and `servicenow_import.py`; not a benchmark itself.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aio_pika
import asyncpg
import httpx

from itsm_sync.app import create_app
from itsm_sync.config import Settings
from itsm_sync.migrate import migrate
from itsm_sync.service import Service
from rita_testing.webhooks import signed_headers

SERVER_URL = os.environ.get("DATABASE_URL", "postgresql+asyncpg://root@127.0.0.1:5432/rita")
RABBITMQ_URL = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"bench-itsm-sync-webhook-secret-32").decode()


@contextlib.asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """A new, migrated itsm-sync database, dropped afterwards."""
    name = f"bench_itsm_sync_{uuid.uuid4().hex[:10]}"
    head, _, _ = SERVER_URL.rpartition("/")
    admin = head.replace("postgresql+asyncpg://", "postgresql://") + "/postgres"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{head}/{name}"
    try:
        await asyncio.to_thread(migrate, url)
        yield url
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@contextlib.asynccontextmanager
async def status_queue(label: str) -> AsyncIterator[tuple[str, asyncio.Queue[dict[str, Any]]]]:
    """A fresh durable queue and the messages read from it; deleted afterwards."""
    name = f"bench.{label}.{uuid.uuid4().hex[:8]}"
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    connection = await aio_pika.connect(RABBITMQ_URL)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, durable=True)

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process():
                received.put_nowait(json.loads(message.body))

        tag = await queue.consume(on_message)
        yield name, received
        await queue.cancel(tag)
        await queue.delete(if_unused=False, if_empty=False)
    finally:
        await connection.close()


async def rate_limited(base_url: str) -> int:
    """An emulator's (fake-jira's, fake-servicenow's) count of 429 answers so far."""
    async with httpx.AsyncClient() as http:
        return int((await http.get(f"{base_url}/_admin/stats")).json()["rate_limited"])


async def wait_for(
    received: asyncio.Queue[dict[str, Any]], done: set[str], kind: str
) -> dict[str, Any]:
    """The first message of `kind` whose status is in `done`."""
    while True:
        message = await asyncio.wait_for(received.get(), timeout=300)
        if message["type"] == kind and message["status"] in done:
            return message


@dataclass
class ImportRun:
    """One import through itsm-sync, as the console would see it."""

    rate: float  # records_processed / seconds from the sync webhook to `completed`
    final: dict[str, Any]  # the last message (`completed` or `failed`)
    running: int  # `running` messages
    max_gap: float  # the longest time between two messages of the run, seconds


async def import_through_itsm_sync(
    *,
    connection_type: str,
    credentials: dict[str, str],
    settings: dict[str, Any],
    allowed_host: str,
    time_range_days: int,
    page_size: int,
) -> ImportRun:
    """Verify, then import once through an in-process itsm-sync with its own database and queue."""
    async with scratch_database() as database_url, status_queue(connection_type) as queue:
        name, received = queue
        service_settings = Settings.model_validate(
            {
                "itsm_sync_database_url": database_url,
                "rabbitmq_url": RABBITMQ_URL,
                "status_queue": name,
                "sync_webhook_secret": WEBHOOK_SECRET,
                "itsm_sync_encryption_key": base64.b64encode(os.urandom(32)).decode(),
                "allowed_private_hosts": allowed_host,
                "itsm_sync_page_size": page_size,
            }
        )
        service = Service(service_settings)
        await service.start(resume=False)
        try:
            transport = httpx.ASGITransport(app=create_app(service_settings, service))
            async with httpx.AsyncClient(transport=transport, base_url="http://itsm-sync") as http:
                hooks = _Hooks(connection_type, credentials, settings, time_range_days)
                return await _verify_and_import(http, received, hooks)
        finally:
            await service.stop()


async def _post(http: httpx.AsyncClient, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    response = await http.post("/webhook", content=raw, headers=signed_headers(raw, WEBHOOK_SECRET))
    response.raise_for_status()


@dataclass(frozen=True)
class _Hooks:
    """What the two webhooks of a run carry."""

    connection_type: str
    credentials: dict[str, str]
    settings: dict[str, Any]
    time_range_days: int


async def _verify_and_import(
    http: httpx.AsyncClient, received: asyncio.Queue[dict[str, Any]], hooks: _Hooks
) -> ImportRun:
    ids = {
        "source": "rita-chat",
        "tenant_id": str(uuid.uuid4()),
        "connection_id": str(uuid.uuid4()),
        "user_id": "bench",
        "connection_type": hooks.connection_type,
    }
    verify = {
        **ids,
        "action": "verify_credentials",
        "credentials": hooks.credentials,
        "settings": hooks.settings,
    }
    await _post(http, verify)
    verified = await wait_for(received, {"success", "failed"}, "verification")
    assert verified["status"] == "success", verified
    await asyncio.sleep(1.0)  # let the account's bucket refill, as for the baseline
    sync = {
        **ids,
        "action": "sync_tickets",
        "ingestion_run_id": str(uuid.uuid4()),
        "settings": {"time_range_days": hooks.time_range_days},
    }
    started = time.perf_counter()
    await _post(http, sync)
    running = 0
    stamps: list[datetime] = []
    while True:
        message = await wait_for(received, {"running", "completed", "failed"}, "ticket_ingestion")
        stamps.append(datetime.fromisoformat(message["timestamp"]))
        if message["status"] != "running":
            break
        running += 1
    elapsed = time.perf_counter() - started
    max_gap = max(((b - a).total_seconds() for a, b in itertools.pairwise(stamps)), default=0.0)
    return ImportRun(message.get("records_processed", 0) / elapsed, message, running, max_gap)
