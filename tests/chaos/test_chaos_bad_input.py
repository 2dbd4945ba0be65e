"""The bad-input table of issue 12: refused clearly, applied, or dead-lettered at once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import aio_pika
import asyncpg
import httpx

from contracts import dead_letter_queue
from rita_testing import asyncpg_dsn
from rita_testing.stack import Stack
from rita_testing.workload import publish
from tests.chaos.conftest import Row
from tests.chaos.harness import Api, eventually_true


async def test_bad_input_table(
    stack_factory: Callable[..., Stack],
    system_database: str,
    rabbitmq_url: str,
    queue_name: str,
    chaos_row: Row,
) -> None:
    stack = stack_factory()
    api_proc = await asyncio.to_thread(stack.start, "connections-api")
    await asyncio.to_thread(stack.start, "status-consumer")
    tenant = uuid.uuid4()
    results: list[tuple[str, str, str]] = []
    async with Api(api_proc.url, tenant) as api, httpx.AsyncClient(timeout=30) as anonymous:
        before = await api.connection("jira_itsm")
        row_id = before["id"]
        path = f"/api/data-sources/{row_id}"
        # Over the 64 KiB limit, small enough to fit the socket buffers: the client finishes
        # sending before it reads the early 413 (a bigger body meets a closed connection).
        huge = b'{"description": "' + b"x" * (100 << 10) + b'"}'
        cases: list[tuple[str, httpx.Response, set[int]]] = [
            (
                "100 KiB body without a token",
                await anonymous.patch(
                    api_proc.url + path, content=huge, headers={"Content-Type": "application/json"}
                ),
                {401, 413},
            ),
            (
                "100 KiB body with a token",
                await api.call(
                    "PATCH", path, content=huge, headers={"Content-Type": "application/json"}
                ),
                {413},
            ),
            (
                "config with an unknown key",
                await api.call("PATCH", path, json={"config": {"nope": 1}}),
                {422},
            ),
            (
                "config over the size cap",
                await api.call(
                    "PATCH", path, json={"config": {"project_keys": [f"P{i}" for i in range(4000)]}}
                ),
                {413, 422},
            ),
            (
                "config naming ids the verification did not return",
                await api.call("PATCH", path, json={"config": {"project_keys": ["NOPE"]}}),
                {422},
            ),
            (
                "settings with an unknown key",
                await api.call("PATCH", path, json={"settings": {"color": "red"}}),
                {422},
            ),
        ]
        for url in (
            "https://[64:ff9b::7f00:1]",
            "https://[::127.0.0.1]",
            "https://[2002:7f00:1::1]",
            "https://localhost.",
        ):
            cases.append(
                (
                    f"base_url {url}",
                    await api.call(
                        "POST",
                        f"{path}/verify",
                        json={
                            "settings": {"base_url": url, "email": "a@b.co"},
                            "credentials": {"email": "a@b.co", "api_token": "t"},
                        },
                    ),
                    {422},
                )
            )
        for name, response, allowed in cases:
            ok = response.status_code in allowed and response.headers.get(
                "content-type", ""
            ).startswith("application/problem+json")
            results.append((name, str(response.status_code), "ok" if ok else "WRONG"))
        after = await api.get(row_id)
        assert after == before  # nothing stored, not even partly

    # Status messages: applied when they can be, dead-lettered at once when they never can.
    run_id, second_run, knowledge_id = await _seed_runs(system_database, tenant)
    messages = {
        "cancelled run": {
            "type": "ticket_ingestion",
            "tenant_id": str(tenant),
            "ingestion_run_id": str(run_id),
            "status": "cancelled",
        },
        "error text of 5,000 characters": {
            "type": "ticket_ingestion",
            "tenant_id": str(tenant),
            "ingestion_run_id": str(second_run),
            "status": "failed",
            "error_message": "E" * 5000,
        },
        "counter overflow": {
            "type": "ticket_ingestion",
            "tenant_id": str(tenant),
            "ingestion_run_id": str(run_id),
            "status": "running",
            "records_processed": 2**70,
        },
        "JSON nested too deep": {
            "type": "verification",
            "tenant_id": str(tenant),
            "connection_id": row_id,
            "status": "success",
            "options": _deep(200),
        },
        "sync message naming an ITSM connection": {
            "type": "sync",
            "tenant_id": str(tenant),
            "connection_id": row_id,
            "status": "sync_failed",
            "error_message": "x",
        },
        "ticket_ingestion naming a knowledge source": {
            "type": "ticket_ingestion",
            "tenant_id": str(tenant),
            "ingestion_run_id": str(second_run),
            "connection_id": str(knowledge_id),
            "status": "running",
            "records_processed": 1,
        },
    }
    await publish(rabbitmq_url, queue_name, [json.dumps(m).encode() for m in messages.values()])
    dlq = dead_letter_queue(queue_name)

    async def four_dead_lettered() -> bool:
        return await _queue_depth(rabbitmq_url, dlq) >= 4

    try:
        await eventually_true(four_dead_lettered, within=60)
    except TimeoutError:
        print(stack.procs["status-consumer"].tail(80))  # noqa: T201 - shown on failure
        raise
    run = await _run(system_database, run_id)
    results.append(
        ("cancelled run", run["status"], "ok" if run["status"] == "cancelled" else "WRONG")
    )
    failed = await _run(system_database, second_run)
    text = failed["error_message"] or ""
    truncated = failed["status"] == "failed" and 0 < len(text) < 5000 and text.startswith("EEEE")
    results.append(
        (
            "error text of 5,000 characters",
            f"{failed['status']}, stored {len(text)} chars",
            "ok" if truncated else "WRONG",
        )
    )
    depth = await _queue_depth(rabbitmq_url, dlq)
    for name in list(messages)[2:]:
        results.append((name, "dead-lettered", "ok" if depth == 4 else "WRONG"))
    wrong = [r for r in results if r[2] != "ok"]
    for name, outcome, verdict in results:
        chaos_row(
            f"bad input: {name}",
            outcome,
            "problem+json / applied / dead-lettered",
            met=verdict == "ok",
        )
    assert wrong == []


def _deep(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = {"a": value}
    return value


async def _seed_runs(url: str, tenant: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A running import on each ITSM row of `tenant`; and its knowledge (Confluence) row's id."""
    runs = [uuid.uuid4(), uuid.uuid4()]
    db = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for run, kind in zip(runs, ("jira_itsm", "servicenow"), strict=True):
            connection = await db.fetchval(
                "UPDATE data_source_connections SET status = 'syncing', enabled = true "
                "WHERE tenant_id = $1 AND type = $2 RETURNING id",
                tenant,
                kind,
            )
            assert connection is not None, kind
            await db.execute(
                "INSERT INTO ingestion_runs "
                "(id, tenant_id, connection_id, status, time_range_days, records_processed, "
                "records_failed) VALUES ($1, $2, $3, 'running', 30, 0, 0)",
                run,
                tenant,
                connection,
            )
        knowledge = await db.fetchval(
            "SELECT id FROM data_source_connections WHERE tenant_id = $1 AND type = 'confluence'",
            tenant,
        )
    finally:
        await db.close()
    assert knowledge is not None
    return runs[0], runs[1], knowledge


async def _run(url: str, run_id: uuid.UUID) -> asyncpg.Record:
    db = await asyncpg.connect(asyncpg_dsn(url))
    try:
        row = await db.fetchrow(
            "SELECT status, error_message FROM ingestion_runs WHERE id = $1", run_id
        )
    finally:
        await db.close()
    assert row is not None
    return row


async def _queue_depth(url: str, name: str) -> int:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        try:
            queue = await channel.declare_queue(name, passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return 0
        return int(queue.declaration_result.message_count or 0)
