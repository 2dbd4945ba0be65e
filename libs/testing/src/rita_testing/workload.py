"""A status workload for system tests and benchmarks: rows seeded straight into the database,
the status messages that drive them to a known end, and checks of that end state.

Runs that progress and end (one in ten fails) and verifications that succeed or fail (one in
four fails), spread over many tenants and both ITSM types, so a test can kill, restart or
replicate the consumer and then ask whether the database holds exactly the implied state.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import asyncpg

from rita_testing.servers import asyncpg_dsn

T0 = datetime(2026, 1, 1, tzinfo=UTC)


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


ConnectionRow = tuple[uuid.UUID, uuid.UUID, str, str, str]  # id, tenant, type, name, status
RunRow = tuple[uuid.UUID, uuid.UUID, uuid.UUID]  # id, tenant, connection (a pending run)


async def copy_rows(
    database_url: str, connections: list[ConnectionRow], runs: list[RunRow]
) -> None:
    """Insert enabled connections and pending 30-day runs with COPY (fast for 10,000s of rows)."""
    db = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await db.copy_records_to_table(
            "data_source_connections",
            records=[(c, t, k, n, s, True, 1) for c, t, k, n, s in connections],
            columns=["id", "tenant_id", "type", "name", "status", "enabled", "version"],
        )
        await db.copy_records_to_table(
            "ingestion_runs",
            records=[(r, t, c, "pending", 30, 0, 0) for r, t, c in runs],
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
    await copy_rows(database_url, [(c, t, k, k, s) for c, t, k, s in conns], run_rows)
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
