"""Batched application of status messages: the consumer side of the state rules (DESIGN.md §5).

One call applies a whole batch inside the caller's transaction with a handful of set-based
statements; every guard (tenant, terminal run, `verifying`, verification id, counters never
lower, message age) is in the SQL, so a redelivered or reordered message is harmless. Messages
that target the same row inside one batch are folded in Python first (`store.status_fold`) so the
batch gives the same result as applying its messages one by one, in order. Messages naming the
wrong kind of connection are set aside first (`store.status_kinds`). The caller commits, then
publishes `BatchResult.connections` / `.runs` (the contracts' public models) as events.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from pydantic import TypeAdapter
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
from store.status_fold import (
    Key,
    error_code,
    fold_runs,
    fold_verifications,
    reverify_code,
    reverify_error,
    utc,
)
from store.status_kinds import Rejected, wrong_kinds


@dataclass(frozen=True, slots=True)
class TenantMismatch:
    """A message named a row that belongs to another tenant; nothing was changed."""

    kind: str  # "connection" | "ingestion_run"
    row_id: UUID
    message_tenant_id: UUID
    row_tenant_id: UUID


@dataclass(frozen=True, slots=True)
class StaleVerification:
    """A verification result naming another `verification_id` than the one in flight: ignored."""

    connection_id: UUID
    tenant_id: UUID
    verification_id: UUID


@dataclass(slots=True)
class BatchResult:
    """What a batch changed (the final public rows to publish), and what it skipped."""

    connections: list[ConnectionPublic] = field(default_factory=list)
    runs: list[IngestionRunPublic] = field(default_factory=list)
    duplicates: int = 0
    mismatches: list[TenantMismatch] = field(default_factory=list)
    stale_verifications: list[StaleVerification] = field(default_factory=list)
    # Messages that can never apply (wrong kind of connection): for the dead-letter queue.
    rejected: list[Rejected] = field(default_factory=list)


# The changed rows become the contracts' models in one validation per kind, from plain dicts:
# pydantic reads a dict natively, but a SQLAlchemy `RowMapping` through the generic `Mapping`
# protocol, key by key (that took about half of this module's CPU in `bench/consumer.py`). Every
# statement returns the model's fields first, in the model's order (`status_sql.public_columns`),
# so zipping a row with the field names pairs exactly those (a run's extra columns are left out).
_CONNECTIONS: TypeAdapter[list[ConnectionPublic]] = TypeAdapter(list[ConnectionPublic])
_RUNS: TypeAdapter[list[IngestionRunPublic]] = TypeAdapter(list[IngestionRunPublic])
_CONNECTION_FIELDS = tuple(ConnectionPublic.model_fields)
_RUN_FIELDS = tuple(IngestionRunPublic.model_fields)


def _public(fields: tuple[str, ...], rows: Iterable[sa.Row[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(fields, row, strict=False)) for row in rows]


# Changed rows by (id, tenant) → public columns; a later statement's row replaces an earlier one's.
Changed = dict[Key, sa.Row[Any]]


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


def _json(value: dict[str, Any] | list[Any] | None) -> str | None:
    return None if value is None else json.dumps(value, default=str)


async def _in_flight(
    conn: AsyncConnection, messages: list[VerificationMessage]
) -> dict[Key, UUID | None]:
    """The `verification_id` of the connections whose results name one (rows locked)."""
    ids = {m.connection_id for m in messages if m.verification_id is not None}
    if not ids:
        return {}  # no id named: the first result while verifying wins, no lookup needed
    rows = await conn.execute(q.VERIFYING, {"ids": list(ids)})
    return {(r.id, r.tenant_id): r.verification_id for r in rows}


async def _apply_verifications(
    conn: AsyncConnection, messages: list[VerificationMessage]
) -> tuple[Changed, list[StaleVerification]]:
    fold = fold_verifications(messages, await _in_flight(conn, messages))
    stale = [
        StaleVerification(m.connection_id, m.tenant_id, m.verification_id)
        for m in fold.stale
        if m.verification_id is not None
    ]
    chosen = fold.candidates
    if not chosen:
        return {}, stale
    codes = [error_code(m.error_detail) for m in chosen]
    rows = await conn.execute(
        q.UPDATE_VERIFICATIONS,
        {
            "ids": [m.connection_id for m in chosen],
            "tenants": [m.tenant_id for m in chosen],
            "success": [m.status == "success" for m in chosen],
            "options": [_json(m.options) for m in chosen],
            "ts": [m.timestamp for m in chosen],
            "errors": [m.error for m in chosen],
            "codes": [None if c is None else c.value for c in codes],
            "verification_ids": [m.verification_id for m in chosen],
        },
    )
    return {(r.id, r.tenant_id): r for r in rows}, stale


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
                "codes": [None if d.error_code is None else d.error_code.value for d in deltas],
                "details": [_json(d.error_detail) for d in deltas],
                "credential": [d.credential_failure for d in deltas],
            },
        )
    ).all()
    changed_runs = {(r.id, r.tenant_id): r for r in rows}
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
            "reverify_codes": [
                reverify_code(e.error_detail).value if e.credential else None for e in ends
            ],
        },
    )
    return changed_runs, {(r.id, r.tenant_id): r for r in conns}


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
            changed[(row.id, row.tenant_id)] = row
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
    rejected = await wrong_kinds(conn, messages)
    refused = {r.index for r in rejected}
    acceptable = [m for i, m in enumerate(messages) if i not in refused]
    keep, duplicates = await _fresh_messages(conn, acceptable)
    kept = [acceptable[i] for i in keep]
    verifications = [m for m in kept if isinstance(m, VerificationMessage)]
    tickets = [m for m in kept if isinstance(m, TicketIngestionMessage)]
    syncs = [m for m in kept if isinstance(m, SyncMessage)]

    # Statement order matters: a connection changed twice keeps the later statement's row.
    changed_conns, stale = await _apply_verifications(conn, verifications)
    changed_runs, ended_conns = await _apply_runs(conn, tickets)
    changed_conns |= ended_conns
    changed_conns |= await _apply_syncs(conn, syncs)

    conn_keys = {(m.connection_id, m.tenant_id) for m in verifications}
    conn_keys |= {(m.connection_id, m.tenant_id) for m in syncs}
    run_keys = {(m.ingestion_run_id, m.tenant_id) for m in tickets}
    mismatches = await _mismatches(conn, "connection", conn_keys, changed_conns)
    mismatches += await _mismatches(conn, "ingestion_run", run_keys, changed_runs)

    if republish is not None and any(republish):
        again = [flag and i not in refused for i, flag in enumerate(republish)]
        await _add_republished(conn, messages, again, changed_runs, changed_conns)
    return BatchResult(
        connections=_CONNECTIONS.validate_python(
            _public(_CONNECTION_FIELDS, changed_conns.values())
        ),
        runs=_RUNS.validate_python(_public(_RUN_FIELDS, changed_runs.values())),
        duplicates=duplicates,
        mismatches=mismatches,
        stale_verifications=stale,
        rejected=rejected,
    )


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
        runs[(row.id, row.tenant_id)] = row
        # A republished run brings its connection along (its end may have changed both).
        extra_conns.add((row.connection_id, row.tenant_id))
    for row in await q.select_public(conn, "connection", extra_conns - connections.keys()):
        connections[(row.id, row.tenant_id)] = row


async def prune_receipts(conn: AsyncConnection, older_than: timedelta = timedelta(days=7)) -> int:
    """Delete `message_id` receipts older than `older_than`; returns how many went."""
    result = await conn.execute(
        sa.text(
            "DELETE FROM status_message_receipts WHERE received_at < now() - CAST(:age AS interval)"
        ),
        {"age": older_than},
    )
    return int(getattr(result, "rowcount", 0) or 0)
