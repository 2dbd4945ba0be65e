"""Tenant and role matrices over every route and the stream; the bad-input table (issue 12)."""

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
from tests.chaos.conftest import Row
from tests.chaos.harness import Api, Listener, eventually_true, publish

READS = [
    ("GET", "/api/me"),
    ("GET", "/api/data-sources"),
    ("GET", "/api/data-sources/{id}"),
    ("GET", "/api/data-sources/{id}/ingestion-runs"),
    ("GET", "/api/data-sources/{id}/ingestion-runs/latest"),
    ("POST", "/api/events/token"),
]
WRITES = [
    ("PATCH", "/api/data-sources/{id}", {"description": "matrix"}),
    ("POST", "/api/data-sources/{id}/verify", {"settings": {}, "credentials": {}}),
    ("POST", "/api/data-sources/{id}/sync-tickets", {"time_range_days": 30}),
    ("POST", "/api/data-sources/{id}/cancel-ingestion", None),
]
ROW_ROUTES = {str(route[1]) for route in [*READS, *WRITES] if "{id}" in str(route[1])}


async def test_tenant_and_role_matrix_over_every_route_and_the_stream(
    stack_factory: Callable[..., Stack], chaos_row: Row
) -> None:
    stack = stack_factory()
    api_proc = await asyncio.to_thread(stack.start, "connections-api")
    gateway = await asyncio.to_thread(stack.start, "sse-gateway")
    owner, stranger = uuid.uuid4(), uuid.uuid4()
    async with (
        Api(api_proc.url, owner) as admin,
        Api(api_proc.url, owner, "member") as member,
        Api(api_proc.url, stranger) as other,
        httpx.AsyncClient(base_url=api_proc.url, timeout=30) as anonymous,
    ):
        row_id = (await admin.connection("jira_itsm"))["id"]
        other_row = (await other.connection("jira_itsm"))["id"]
        wrong: list[str] = []
        cells = 0

        def expect(who: str, method: str, path: str, got: int, allowed: set[int]) -> None:
            nonlocal cells
            cells += 1
            if got not in allowed:
                wrong.append(f"{who} {method} {path}: {got} not in {sorted(allowed)}")

        for method, template in READS:
            path = template.format(id=row_id)
            expect("admin", method, template, (await admin.call(method, path)).status_code, {200})
            expect("member", method, template, (await member.call(method, path)).status_code, {200})
            expect(
                "anonymous",
                method,
                template,
                (await anonymous.request(method, path)).status_code,
                {401},
            )
            if template in ROW_ROUTES:
                got = (await other.call(method, path)).status_code
                expect("other tenant", method, template, got, {404})
        for method, template, body in WRITES:
            path = template.format(id=row_id)
            kwargs: dict[str, Any] = {"json": body} if body is not None else {}
            got = (await member.call(method, path, **kwargs)).status_code
            expect("member", method, template, got, {403})
            got = (await other.call(method, path, **kwargs)).status_code
            expect("other tenant", method, template, got, {404})
            got = (await anonymous.request(method, path, **kwargs)).status_code
            expect("anonymous", method, template, got, {401})
            got = (await admin.call(method, path, **kwargs)).status_code
            expect("admin", method, template, got, set(range(200, 500)) - {401, 403, 404})

        # The stream: a tenant's token sees its own events and never another tenant's.
        mine = await Listener(gateway.url, await admin.events_token()).start()
        theirs = await Listener(gateway.url, await other.events_token()).start()
        assert (
            await other.call("PATCH", f"/api/data-sources/{other_row}", json={"description": "x"})
        ).status_code == 200
        assert (
            await admin.call("PATCH", f"/api/data-sources/{row_id}", json={"description": "y"})
        ).status_code == 200

        async def both_saw_their_own() -> bool:
            return bool(mine.data_frames()) and bool(theirs.data_frames())

        await eventually_true(both_saw_their_own, within=30)
        cells += 2
        if any(f.json().get("tenant_id") != str(owner) for f in mine.data_frames()):
            wrong.append("stream: the owner received another tenant's event")
        if any(f.json().get("tenant_id") != str(stranger) for f in theirs.data_frames()):
            wrong.append("stream: the stranger received the owner's event")
        no_token = await anonymous.get(f"{gateway.url}/events")
        cells += 1
        if no_token.status_code != 401:
            wrong.append(f"stream without a token: {no_token.status_code}")
        await mine.stop()
        await theirs.stop()
    assert wrong == []
    chaos_row(
        "tenant x role cells answered wrongly (routes and stream)", f"0 of {cells}", "0", met=True
    )


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
        row_id = (await api.connection("jira_itsm"))["id"]
        path = f"/api/data-sources/{row_id}"
        huge = b'{"description": "' + b"x" * (1 << 20) + b'"}'
        cases: list[tuple[str, httpx.Response, set[int]]] = [
            (
                "1 MiB body without a token",
                await anonymous.patch(
                    api_proc.url + path, content=huge, headers={"Content-Type": "application/json"}
                ),
                {401, 413},
            ),
            (
                "1 MiB body with a token",
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
        assert after["config"] == {}  # nothing stored wrong
        assert after["description"] is None

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
            "ingestion_run_id": str(knowledge_id),
            "status": "running",
            "records_processed": 1,
        },
    }
    await publish(rabbitmq_url, queue_name, [json.dumps(m).encode() for m in messages.values()])
    dlq = dead_letter_queue(queue_name)

    async def four_dead_lettered() -> bool:
        return await _queue_depth(rabbitmq_url, dlq) >= 4

    await eventually_true(four_dead_lettered, within=60)
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
    """A running import on each ITSM row of `tenant`, and a run on a knowledge row (wrong kind)."""
    runs = [uuid.uuid4(), uuid.uuid4(), uuid.uuid4()]
    db = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for run, kind in zip(runs, ("jira_itsm", "servicenow", "confluence"), strict=True):
            connection = await db.fetchval(
                "UPDATE data_source_connections SET status = 'syncing', enabled = true "
                "WHERE tenant_id = $1 AND type = $2 RETURNING id",
                tenant,
                kind,
            )
            assert connection is not None, kind
            await db.execute(
                "INSERT INTO ingestion_runs "
                "(id, tenant_id, connection_id, status, time_range_days) "
                "VALUES ($1, $2, $3, 'running', 30)",
                run,
                tenant,
                connection,
            )
    finally:
        await db.close()
    return runs[0], runs[1], runs[2]


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
