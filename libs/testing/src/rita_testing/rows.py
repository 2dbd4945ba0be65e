"""Rows for tests of any part that reads or applies to the schema: inserted with plain SQL, read
back whole, and status messages applied to them as one batch."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import parse_status_message
from store import BatchResult, apply_status_batch

_CONNECTION = sa.text(
    "INSERT INTO data_source_connections (id, tenant_id, type, name, status, enabled, version)"
    " VALUES (:id, :t, :k, :n, :s, :e, 1)"
)
_RUN = sa.text(
    "INSERT INTO ingestion_runs (id, tenant_id, connection_id, status, time_range_days,"
    " records_processed, records_failed) VALUES (:id, :t, :c, :s, 30, 0, 0)"
)


async def insert_connection(
    engine: AsyncEngine,
    *,
    kind: str = "jira_itsm",
    name: str = "Jira",
    status: str = "idle",
    enabled: bool = True,
) -> tuple[UUID, UUID]:
    """A connection of type `kind` (default `jira_itsm`) of a new tenant: (connection id, tenant
    id)."""
    cid, tenant = uuid.uuid4(), uuid.uuid4()
    row = {"id": cid, "t": tenant, "k": kind, "n": name, "s": status, "e": enabled}
    async with engine.begin() as c:
        await c.execute(_CONNECTION, row)
    return cid, tenant


async def insert_run(engine: AsyncEngine, cid: UUID, tenant: UUID, status: str = "pending") -> UUID:
    """A 30-day run of that connection; its id."""
    rid = uuid.uuid4()
    async with engine.begin() as c:
        await c.execute(_RUN, {"id": rid, "t": tenant, "c": cid, "s": status})
    return rid


async def insert_syncing_runs(engine: AsyncEngine, count: int) -> list[tuple[UUID, UUID, UUID]]:
    """`count` syncing connections, each with one pending run: (tenant, connection, run)."""
    made = [(uuid.uuid4(), uuid.uuid4(), uuid.uuid4()) for _ in range(count)]
    async with engine.begin() as c:
        for tenant, cid, rid in made:
            await c.execute(
                _CONNECTION,
                {"id": cid, "t": tenant, "k": "jira_itsm", "n": "Jira", "s": "syncing", "e": True},
            )
            await c.execute(_RUN, {"id": rid, "t": tenant, "c": cid, "s": "pending"})
    return made


async def fetch_row(engine: AsyncEngine, table: str, rid: UUID) -> dict[str, Any]:
    """Every column of the row of `table` with id `rid` (which must exist)."""
    async with engine.connect() as c:
        result = await c.execute(sa.text(f"SELECT * FROM {table} WHERE id = :id"), {"id": rid})  # noqa: S608 - table names come from the test
        return dict(result.one()._mapping)


async def apply_messages(
    engine: AsyncEngine, *bodies: dict[str, Any], republish: Sequence[bool] | None = None
) -> BatchResult:
    """Parse status message bodies and apply them as one batch in one transaction."""
    async with engine.begin() as c:
        return await apply_status_batch(
            c, [parse_status_message(b) for b in bodies], republish=republish
        )
