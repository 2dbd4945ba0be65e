"""What the chaos tests drive the system with: an API client, SSE listeners, a status workload.

Everything talks to real processes on loopback (`rita_testing.stack`) and to the real servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import asyncpg
import httpx

from rita_testing import asyncpg_dsn

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Api:
    """One API process as one tenant's user (`role` admin or member) sees it."""

    def __init__(self, base_url: str, tenant_id: uuid.UUID, role: str = "admin") -> None:
        self.base_url, self.tenant_id, self.role = base_url, tenant_id, role
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)
        self.answers: list[httpx.Response] = []  # every answer, for leak scans

    async def __aenter__(self) -> Api:
        token = await self.http.post(
            "/api/dev/token", json={"tenant_id": str(self.tenant_id), "role": self.role}
        )
        token.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.http.aclose()

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.http.request(method, path, **kwargs)
        self.answers.append(response)
        return response

    async def connection(self, kind: str) -> dict[str, Any]:
        """The tenant's row of `kind` (the list read ensures the default rows exist)."""
        listing = await self.call("GET", "/api/data-sources")
        listing.raise_for_status()
        return next(row for row in listing.json()["data"] if row["type"] == kind)

    async def get(self, connection_id: str) -> dict[str, Any]:
        response = await self.call("GET", f"/api/data-sources/{connection_id}")
        response.raise_for_status()
        return dict(response.json())

    async def events_token(self) -> str:
        response = await self.call("POST", "/api/events/token")
        response.raise_for_status()
        return str(response.json()["access_token"])


@dataclass
class Frame:
    """One SSE frame as a browser's EventSource sees it."""

    id: str | None
    event: str
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class Listener:
    """A tenant's stream read like EventSource: reconnects with Last-Event-ID when it drops."""

    gateway_url: str
    token: str
    frames: list[Frame] = field(default_factory=list)
    connects: int = 0
    last_id: str | None = None
    _task: asyncio.Task[None] | None = None
    _open: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> Listener:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._open.wait(), 30)
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def data_frames(self) -> list[Frame]:
        return [f for f in self.frames if f.event not in {"reconnect", "resync"}]

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=None)) as http:
            while True:
                headers = {"Last-Event-ID": self.last_id} if self.last_id else {}
                with contextlib.suppress(httpx.HTTPError):
                    async with http.stream(
                        "GET",
                        f"{self.gateway_url}/events",
                        params={"access_token": self.token},
                        headers=headers,
                    ) as response:
                        if response.status_code == 200:
                            self.connects += 1
                            self._open.set()
                            await self._read(response)
                await asyncio.sleep(0.1)  # EventSource's retry, short for tests

    async def _read(self, response: httpx.Response) -> None:
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line == "":
                if "data" in fields or "event" in fields:
                    frame = Frame(
                        fields.get("id"), fields.get("event", "message"), fields.get("data", "")
                    )
                    self.frames.append(frame)
                    if frame.id:
                        self.last_id = frame.id
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                fields[name] = (
                    f"{fields[name]}\n{value}" if name == "data" and name in fields else value
                )


async def eventually_true(check: Any, within: float = 60, every: float = 0.1) -> float:
    """Seconds until `await check()` is truthy; raises TimeoutError after `within`."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while True:
        if await check():
            return loop.time() - start
        if loop.time() - start > within:
            raise TimeoutError(f"not true within {within}s")
        await asyncio.sleep(every)


# --- a status workload: rows seeded straight into the database, messages onto the queue ---


@dataclass
class Workload:
    """Runs that progress and end, and verifications that succeed or fail, over many tenants."""

    runs: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, str]]  # tenant, run, connection, end
    verifications: list[tuple[uuid.UUID, uuid.UUID, str]]  # tenant, connection, outcome
    steps: int

    def messages(self) -> list[bytes]:
        """Round-robin progress, verifications spread in, each run's end last."""
        out: list[dict[str, Any]] = []
        pending = list(self.verifications)
        per_step = len(pending) // self.steps + 1
        for step in range(1, self.steps + 1):
            for tenant, run, _conn, _end in self.runs:
                out.append(
                    {
                        "type": "ticket_ingestion",
                        "tenant_id": str(tenant),
                        "ingestion_run_id": str(run),
                        "status": "running",
                        "records_processed": step * 10,
                        "total_estimated": self.steps * 10,
                        "timestamp": (T0 + timedelta(seconds=step)).isoformat(),
                        "message_id": f"{run}-{step}",
                    }
                )
            for tenant, conn, outcome in pending[:per_step]:
                out.append(
                    {
                        "type": "verification",
                        "tenant_id": str(tenant),
                        "connection_id": str(conn),
                        "status": outcome,
                        "options": {"projects": [{"key": "OPS"}]} if outcome == "success" else None,
                        "error_message": None if outcome == "success" else "Invalid API token",
                        "message_id": f"{conn}-verify",
                    }
                )
            pending = pending[per_step:]
        for tenant, run, _conn, end in self.runs:
            out.append(
                {
                    "type": "ticket_ingestion",
                    "tenant_id": str(tenant),
                    "ingestion_run_id": str(run),
                    "status": end,
                    "records_processed": self.steps * 10,
                    "timestamp": (T0 + timedelta(seconds=self.steps + 1)).isoformat(),
                    "message_id": f"{run}-end",
                    **({"error_message": "Jira unavailable"} if end == "failed" else {}),
                }
            )
        return [json.dumps(m).encode() for m in out]


async def seed_workload(
    database_url: str, runs: int, verifications: int, steps: int, tenants: int | None = None
) -> Workload:
    """Connections `syncing` with a pending run each, and connections `verifying`."""
    tenant_ids = [uuid.uuid4() for _ in range(tenants or (runs + verifications))]
    work = Workload([], [], steps)
    conns: list[tuple[uuid.UUID, uuid.UUID, str, str]] = []
    run_rows: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = []
    # One row per (tenant, type): spread the rows over tenants and the two ITSM types.
    slots = iter((t, kind) for kind in ("jira_itsm", "servicenow") for t in tenant_ids)
    for i in range(runs):
        tenant, kind = next(slots)
        conn, run = uuid.uuid4(), uuid.uuid4()
        work.runs.append((tenant, run, conn, "failed" if i % 10 == 0 else "completed"))
        conns.append((conn, tenant, kind, "syncing"))
        run_rows.append((run, tenant, conn))
    for i in range(verifications):
        tenant, kind = next(slots)
        conn = uuid.uuid4()
        work.verifications.append((tenant, conn, "success" if i % 4 else "failed"))
        conns.append((conn, tenant, kind, "verifying"))
    db = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await db.copy_records_to_table(
            "data_source_connections",
            records=[(c, t, k, k, s, True, 1) for c, t, k, s in conns],
            columns=["id", "tenant_id", "type", "name", "status", "enabled", "version"],
        )
        await db.copy_records_to_table(
            "ingestion_runs",
            records=[(r, t, c, "pending", 30, 0, 0) for r, t, c in run_rows],
            columns=[
                "id",
                "tenant_id",
                "connection_id",
                "status",
                "time_range_days",
                "records_processed",
                "records_failed",
            ],
        )
    finally:
        await db.close()
    return work


async def workload_done(database_url: str, work: Workload) -> bool:
    """Every run ended and every connection idle."""
    db = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        ended = await db.fetchval(
            "SELECT count(*) FROM ingestion_runs WHERE status IN ('completed', 'failed')"
        )
        idle = await db.fetchval(
            "SELECT count(*) FROM data_source_connections WHERE status = 'idle'"
        )
    finally:
        await db.close()
    return bool(ended == len(work.runs) and idle == len(work.runs) + len(work.verifications))


async def workload_mismatches(database_url: str, work: Workload) -> list[str]:
    """Rows whose final state is not the one the messages imply (empty: exact)."""
    db = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        runs = {
            r["id"]: (r["status"], r["records_processed"])
            for r in await db.fetch("SELECT id, status, records_processed FROM ingestion_runs")
        }
        conns = {
            r["id"]: (r["status"], r["enabled"])
            for r in await db.fetch("SELECT id, status, enabled FROM data_source_connections")
        }
    finally:
        await db.close()
    wrong = [
        f"run {run}: {runs.get(run)} != {(end, work.steps * 10)}"
        for _t, run, _c, end in work.runs
        if runs.get(run) != (end, work.steps * 10)
    ]
    wrong += [
        f"connection {conn}: {conns.get(conn)} != {('idle', outcome == 'success')}"
        for _t, conn, outcome in work.verifications
        if conns.get(conn) != ("idle", outcome == "success")
    ]
    return wrong


async def publish(rabbitmq_url: str, queue: str, bodies: Iterable[bytes]) -> int:
    """Persistent messages onto `queue` (declared durable, as the services declare it)."""
    connection = await aio_pika.connect(rabbitmq_url)
    sent = 0
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue(queue, durable=True)
        batch: list[bytes] = []
        for body in bodies:
            batch.append(body)
            if len(batch) == 500:
                sent += await _publish_batch(channel, queue, batch)
                batch = []
        sent += await _publish_batch(channel, queue, batch)
    return sent


async def _publish_batch(
    channel: aio_pika.abc.AbstractChannel, queue: str, batch: list[bytes]
) -> int:
    await asyncio.gather(
        *(
            channel.default_exchange.publish(
                aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=queue,
            )
            for body in batch
        )
    )
    return len(batch)


async def metric_value(base_url: str, name: str, labels: str = "") -> float:
    """One sample of a service's `/metrics` (0 when absent)."""
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"{base_url}/metrics")).text
    wanted = f"{name}{{{labels}}}" if labels else name
    total = 0.0
    for line in text.splitlines():
        if line.startswith(wanted + " ") or (not labels and line.startswith(name + "{")):
            total += float(line.rsplit(" ", 1)[1])
    return total
