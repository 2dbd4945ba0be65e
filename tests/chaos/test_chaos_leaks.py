"""A full verify + import with a distinctive token, then a scan of everything the system kept."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import uuid
from collections.abc import Callable

import aio_pika
import asyncpg
import httpx
import redis.asyncio as aioredis

from contracts import dead_letter_queue
from rita_testing import asyncpg_dsn
from rita_testing.stack import Stack
from tests.chaos.conftest import Row
from tests.chaos.harness import Api, Listener, eventually_true, start_whole_system

EMAIL = "leak-scan@example.com"


async def database_text(url: str) -> str:
    """Every row of every table of a database, as text."""
    db = await asyncpg.connect(asyncpg_dsn(url))
    try:
        tables = [
            r["tablename"]
            for r in await db.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        parts = [
            # Table names come from the catalogue, not from input.
            await db.fetchval(f"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM \"{t}\" t")  # noqa: S608
            for t in tables
        ]
    finally:
        await db.close()
    return "\n".join(parts)


async def redis_text(url: str, prefix: str) -> str:
    client = aioredis.from_url(url, decode_responses=True)
    parts: list[str] = []
    try:
        async for key in client.scan_iter(match=f"{prefix}*"):
            kind = await client.type(key)
            if kind == "stream":
                parts.extend(repr(fields) for _id, fields in await client.xrange(key) or [])
            elif kind == "string":
                parts.append(repr(await client.get(key)))
            else:
                parts.append(f"{key!r}:{kind!r}")
    finally:
        await client.aclose()
    return "\n".join(parts)


async def queue_text(url: str, names: list[str]) -> str:
    """The bodies and headers of every message left on `names` (read, then all put back)."""
    parts: list[str] = []
    connection = await aio_pika.connect(url)
    async with connection:
        for name in names:
            channel = await connection.channel()
            with contextlib.suppress(aio_pika.exceptions.ChannelClosed):
                queue = await channel.declare_queue(name, passive=True)
                while (message := await queue.get(no_ack=False, fail=False)) is not None:
                    parts.append(message.body.decode(errors="replace") + str(message.headers))
            # Closing the channel without acknowledging returns every message read to its queue.
            with contextlib.suppress(Exception):
                await channel.close()
    return "\n".join(parts)


async def test_no_trace_of_the_token_anywhere_after_verify_and_import(
    stack_factory: Callable[..., Stack],
    system_database: str,
    sync_database: str,
    rabbitmq_url: str,
    redis_url: str,
    redis_prefix: str,
    queue_name: str,
    chaos_row: Row,
) -> None:
    token = f"LEAK-CANARY-{uuid.uuid4().hex}"
    needles = {token, base64.b64encode(f"{EMAIL}:{token}".encode()).decode()}
    stack = stack_factory()
    jira, gateway, api_proc = await asyncio.to_thread(
        start_whole_system, stack, f"{EMAIL}:{token}", FAKE_JIRA_ISSUES="300"
    )
    tenant = uuid.uuid4()
    async with Api(api_proc.url, tenant) as api:
        listener = await Listener(gateway.url, await api.events_token()).start()
        row = await api.connection("jira_itsm")
        await api.verify_jira(row["id"], jira.url, EMAIL, token)
        await eventually_true(lambda: api.verified(row["id"]), within=60)
        sync_started = await api.call(
            "POST", f"/api/data-sources/{row['id']}/sync-tickets", json={"time_range_days": 365}
        )
        assert sync_started.status_code == 202, sync_started.text

        async def imported() -> bool:
            latest = await api.call("GET", f"/api/data-sources/{row['id']}/ingestion-runs/latest")
            body = latest.json()
            return bool(body) and body["status"] == "completed"

        await eventually_true(imported, within=120)
        # A wrong token too: its failure path (errors, logs) must not echo it either.
        wrong = f"LEAK-CANARY-WRONG-{uuid.uuid4().hex}"
        needles.add(wrong)
        await api.verify_jira(row["id"], jira.url, EMAIL, wrong)

        async def refused() -> bool:
            current = await api.get(row["id"])
            return current["status"] == "idle" and current["last_verification_error"] is not None

        await eventually_true(refused, within=60)
        await listener.stop()
        answers = "\n".join(f"{r.headers}\n{r.text}" for r in api.answers)

    async with httpx.AsyncClient(timeout=10) as http:
        metrics = "\n".join(
            [
                (await http.get(f"{p.url}/metrics")).text
                for p in stack.procs.values()
                if p.name != "fake-jira"
            ]
        )
    surfaces = {
        "rita database": await database_text(system_database),
        "itsm-sync database": await database_text(sync_database),
        # fake-jira stands for the customer's Jira: the token is rightly sent to it.
        "logs": stack.logs_text(exclude=frozenset({"fake-jira"})),
        "redis": await redis_text(redis_url, redis_prefix),
        "queues (dead-letter included)": await queue_text(
            rabbitmq_url, [queue_name, dead_letter_queue(queue_name)]
        ),
        "HTTP answers": answers,
        "SSE frames": "\n".join(f.data for f in listener.frames),
        "metrics": metrics,
    }
    assert len(listener.data_frames()) > 0
    assert "LEAK-CANARY" not in surfaces["SSE frames"]
    found = {name: sum(text.count(needle) for needle in needles) for name, text in surfaces.items()}
    assert found == dict.fromkeys(surfaces, 0)
    chaos_row(
        "occurrences of the token after verify + import + failed verify",
        " ".join(f"{name}={n}" for name, n in found.items()),
        "0 everywhere",
        met=not any(found.values()),
    )
