"""Batched application of status messages: the consumer side of the state rules (DESIGN.md §5).

One call applies a whole batch inside the caller's transaction with a handful of set-based
statements; every guard (tenant, terminal run, `verifying`, counters never lower, message age) is
in the SQL, so a redelivered or reordered message is harmless. Messages that target the same row
inside one batch are folded in Python first (`store.status_fold`) so the batch gives the same
result as applying its messages one by one, in order. The caller commits, then publishes
`BatchResult.connection_rows` / `.run_rows` (public JSON built by PostgreSQL) as events.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import (
    ConnectionPublic,
    IngestionRunPublic,
    StatusMessage,
    SyncMessage,
    TicketIngestionMessage,
    VerificationMessage,
)
from store import status_sql as q
from store.status_fold import fold_runs, fold_verifications, reverify_error, utc

Key = tuple[UUID, UUID]  # (row id, tenant id)


@dataclass(frozen=True, slots=True)
class TenantMismatch:
    """A message named a row that belongs to another tenant; nothing was changed."""

    kind: str  # "connection" | "ingestion_run"
    row_id: UUID
    message_tenant_id: UUID
    row_tenant_id: UUID


@dataclass(frozen=True, slots=True)
class PublicRow:
    """A changed row: its keys and its public JSON object text (the event's data)."""

    id: UUID
    tenant_id: UUID
    json: str


@dataclass(slots=True)
class BatchResult:
    """What a batch changed: the final public rows to publish, and what it skipped."""

    connection_rows: list[PublicRow] = field(default_factory=list)
    run_rows: list[PublicRow] = field(default_factory=list)
    duplicates: int = 0
    mismatches: list[TenantMismatch] = field(default_factory=list)

    @property
    def connections(self) -> list[ConnectionPublic]:
        """The changed connections as models (parsed on demand: the consumer needs only JSON)."""
        return [ConnectionPublic.model_validate_json(r.json) for r in self.connection_rows]

    @property
    def runs(self) -> list[IngestionRunPublic]:
        """The changed runs as models (parsed on demand)."""
        return [IngestionRunPublic.model_validate_json(r.json) for r in self.run_rows]


# Changed rows by (id, tenant) → public JSON; a later statement's row replaces an earlier one's.
Changed = dict[Key, str]


async def _fresh_messages(
    conn: AsyncConnection, messages: Sequence[StatusMessage]
) -> tuple[list[int], int]:
    """Indexes of messages not seen before (receipts written in this transaction), and the
    number of duplicates."""
    first: dict[str, int] = {}
    for i, m in enumerate(messages):
        if m.message_id is not None and m.message_id not in first:
            first[m.message_id] = i
    fresh_ids: set[str] = set()
    if first:
        rows = await conn.execute(q.INSERT_RECEIPTS, {"ids": list(first)})
        fresh_ids = {r[0] for r in rows}
    keep = [
        i
        for i, m in enumerate(messages)
        if m.message_id is None or (first[m.message_id] == i and m.message_id in fresh_ids)
    ]
    return keep, len(messages) - len(keep)


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, default=str)


async def _apply_verifications(
    conn: AsyncConnection, messages: list[VerificationMessage]
) -> Changed:
    folded = fold_verifications(messages)
    if not folded:
        return {}
    rows = await conn.execute(
        q.UPDATE_VERIFICATIONS,
        {
            "ids": [m.connection_id for m in folded],
            "tenants": [m.tenant_id for m in folded],
            "success": [m.status == "success" for m in folded],
            "options": [_json(m.options) for m in folded],
            "ts": [m.timestamp for m in folded],
            "errors": [m.error for m in folded],
        },
    )
    return {(r.id, r.tenant_id): r.json for r in rows}


async def _apply_runs(
    conn: AsyncConnection, messages: list[TicketIngestionMessage]
) -> tuple[Changed, Changed]:
    """Returns (changed runs, changed connections)."""
    deltas = fold_runs(messages)
    if not deltas:
        return {}, {}
    rows = (
        await conn.execute(
            q.UPDATE_RUNS,
            {
                "ids": [d.run_id for d in deltas],
                "tenants": [d.tenant_id for d in deltas],
                "processed": [d.records_processed for d in deltas],
                "failed": [d.records_failed for d in deltas],
                "total": [d.total_estimated for d in deltas],
                "running": [d.running for d in deltas],
                "running_at": [d.running_at for d in deltas],
                "terminal": [d.terminal_status for d in deltas],
                "terminal_at": [d.terminal_at for d in deltas],
                "errors": [d.error_message for d in deltas],
                "details": [_json(d.error_detail) for d in deltas],
                "credential": [d.credential_failure for d in deltas],
            },
        )
    ).all()
    changed_runs = {(r.id, r.tenant_id): r.json for r in rows}
    # The latest ending per connection decides its `last_sync_*` (several runs may end at once).
    ended: dict[Key, Any] = {}
    for r in rows:
        if r.terminal is None:
            continue
        key = (r.connection_id, r.tenant_id)
        if key not in ended or r.completed_at >= ended[key].completed_at:
            ended[key] = r
    if not ended:
        return changed_runs, {}
    ends = list(ended.values())
    conns = await conn.execute(
        q.END_RUN_CONNECTIONS,
        {
            "ids": [e.connection_id for e in ends],
            "tenants": [e.tenant_id for e in ends],
            "statuses": [e.terminal for e in ends],
            "ts": [e.completed_at for e in ends],
            "errors": [e.error_message for e in ends],
            "reverify": [reverify_error(e.error_message) if e.credential else None for e in ends],
        },
    )
    return changed_runs, {(r.id, r.tenant_id): r.json for r in conns}


async def _apply_syncs(conn: AsyncConnection, messages: list[SyncMessage]) -> Changed:
    # Knowledge-source sync messages are rare: one guarded statement each, in order.
    changed: Changed = {}
    for m in messages:
        terminal = m.status != "sync_started"
        row = (
            await conn.execute(
                q.UPDATE_SYNC,
                {
                    "id": m.connection_id,
                    "tenant": m.tenant_id,
                    "status": "idle" if terminal else "syncing",
                    "terminal": terminal,
                    "last_status": m.status.removeprefix("sync_") if terminal else None,
                    "ts": utc(m.timestamp),
                    "error": m.error_message if m.status == "sync_failed" else None,
                },
            )
        ).first()
        if row is not None:
            changed[(row.id, row.tenant_id)] = row.json
    return changed


async def _mismatches(
    conn: AsyncConnection, kind: str, wanted: set[Key], changed: Changed
) -> list[TenantMismatch]:
    """Keys that matched no row: those whose row exists under another tenant."""
    missing = wanted - changed.keys()
    if not missing:
        return []
    sql = q.CONNECTION_TENANTS if kind == "connection" else q.RUN_TENANTS
    owners = {r[0]: r[1] for r in await conn.execute(sql, {"ids": [k[0] for k in missing]})}
    return [
        TenantMismatch(kind, row_id, tenant, owners[row_id])
        for row_id, tenant in sorted(missing, key=str)
        if row_id in owners and owners[row_id] != tenant
    ]


async def apply_status_batch(
    conn: AsyncConnection,
    messages: Sequence[StatusMessage],
    *,
    republish: Sequence[bool] | None = None,
) -> BatchResult:
    """Apply `messages` (in delivery order) inside the caller's transaction.

    `republish[i]` marks a redelivered message: the rows it names are returned even if nothing
    changed, so an event lost to a crash between commit and publish is sent again.
    """
    keep, duplicates = await _fresh_messages(conn, messages)
    kept = [messages[i] for i in keep]
    verifications = [m for m in kept if isinstance(m, VerificationMessage)]
    tickets = [m for m in kept if isinstance(m, TicketIngestionMessage)]
    syncs = [m for m in kept if isinstance(m, SyncMessage)]

    # Statement order matters: a connection changed twice keeps the later statement's JSON.
    changed_conns = await _apply_verifications(conn, verifications)
    changed_runs, ended_conns = await _apply_runs(conn, tickets)
    changed_conns |= ended_conns
    changed_conns |= await _apply_syncs(conn, syncs)

    conn_keys = {(m.connection_id, m.tenant_id) for m in verifications}
    conn_keys |= {(m.connection_id, m.tenant_id) for m in syncs}
    run_keys = {(m.ingestion_run_id, m.tenant_id) for m in tickets}
    mismatches = await _mismatches(conn, "connection", conn_keys, changed_conns)
    mismatches += await _mismatches(conn, "ingestion_run", run_keys, changed_runs)

    if republish is not None and any(republish):
        await _add_republished(conn, messages, republish, changed_runs, changed_conns)
    return BatchResult(_rows(changed_conns), _rows(changed_runs), duplicates, mismatches)


def _rows(changed: Changed) -> list[PublicRow]:
    return [PublicRow(key[0], key[1], text) for key, text in changed.items()]


async def _add_republished(
    conn: AsyncConnection,
    messages: Sequence[StatusMessage],
    republish: Sequence[bool],
    runs: Changed,
    connections: Changed,
) -> None:
    """Add the current rows named by redelivered messages (an event lost to a crash between
    commit and publish is sent again)."""
    extra_conns: set[Key] = set()
    extra_runs: set[Key] = set()
    for m, again in zip(messages, republish, strict=True):
        if not again:
            continue
        if isinstance(m, TicketIngestionMessage):
            extra_runs.add((m.ingestion_run_id, m.tenant_id))
        else:
            extra_conns.add((m.connection_id, m.tenant_id))
    for row in await q.select_public(conn, "ingestion_run", extra_runs):
        runs[(row.id, row.tenant_id)] = row.json
        # A republished run brings its connection along (its end may have changed both).
        extra_conns.add((row.connection_id, row.tenant_id))
    for row in await q.select_public(conn, "connection", extra_conns - connections.keys()):
        connections[(row.id, row.tenant_id)] = row.json


async def prune_receipts(conn: AsyncConnection, older_than: timedelta = timedelta(days=7)) -> int:
    """Delete `message_id` receipts older than `older_than`; returns how many went."""
    result = await conn.execute(
        sa.text(
            "DELETE FROM status_message_receipts WHERE received_at < now() - CAST(:age AS interval)"
        ),
        {"age": older_than},
    )
    return int(getattr(result, "rowcount", 0) or 0)
