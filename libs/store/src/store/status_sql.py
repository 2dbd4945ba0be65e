"""The SQL of `store.status_apply`: set-based, guarded, one statement per kind of change.

Arrays travel as `unnest(...)` parameters (one round trip for a whole batch); JSON travels as text
and is cast in SQL. Every statement matches on id AND tenant_id. Each UPDATE returns the changed
row's public columns (exactly the fields of `ConnectionPublic` / `IngestionRunPublic`, so a column
added to the table, a secret say, is never read here): no follow-up SELECT. The rows become
events through the contracts' pydantic models, the one serializer of a public row.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import (
    KNOWLEDGE_SOURCE_TYPES,
    ConnectionPublic,
    IngestionRunPublic,
)


def public_columns(alias: str, model: type[BaseModel]) -> str:
    """`alias."field", …` for the model's fields, in the model's order: the table's column names
    are the field names (`ingestion_runs.metadata` included). Statements return these first, so
    `status_apply` pairs a row's leading values with the field names."""
    return ", ".join(f'{alias}."{name}"' for name in model.model_fields)


def _sql_list(values: Collection[str]) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


CONNECTION_COLUMNS = public_columns("c", ConnectionPublic)
RUN_COLUMNS = public_columns("r", IngestionRunPublic)
# Types a knowledge message may name (DESIGN §4): constants of the contract, not user input.
KNOWLEDGE_TYPES_SQL = _sql_list(KNOWLEDGE_SOURCE_TYPES)

INSERT_RECEIPTS = sa.text(
    "INSERT INTO status_message_receipts (message_id) "
    "SELECT unnest(CAST(:ids AS text[])) ON CONFLICT DO NOTHING RETURNING message_id"
)

# The verification in flight on these connections (locked: a new verify waits for this batch).
VERIFYING = sa.text(
    "SELECT id, tenant_id, status, verification_id FROM data_source_connections"
    " WHERE id = ANY(CAST(:ids AS uuid[])) FOR UPDATE"
)

UPDATE_VERIFICATIONS = sa.text(f"""
UPDATE data_source_connections AS c SET
    status = 'idle',
    enabled = v.success,
    latest_options = CASE WHEN v.success
        THEN COALESCE(CAST(v.options AS jsonb), c.latest_options) ELSE c.latest_options END,
    last_verification_at = COALESCE(v.ts, now()),
    last_verified_at = CASE WHEN v.success THEN COALESCE(v.ts, now()) ELSE c.last_verified_at END,
    last_verification_error = CASE WHEN v.success
        THEN NULL ELSE COALESCE(v.error, 'Verification failed') END,
    last_verification_error_code = CASE WHEN v.success THEN NULL ELSE v.code END,
    verification_id = NULL,
    version = c.version + 1,
    updated_at = now()
FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:success AS boolean[]),
            CAST(:options AS text[]), CAST(:ts AS timestamptz[]), CAST(:errors AS text[]),
            CAST(:codes AS text[]), CAST(:verification_ids AS uuid[]))
     AS v(id, tenant_id, success, options, ts, error, code, verification_id)
WHERE c.id = v.id AND c.tenant_id = v.tenant_id AND c.status = 'verifying'
  AND (v.verification_id IS NULL OR c.verification_id = v.verification_id)
RETURNING {CONNECTION_COLUMNS}
""")  # noqa: S608 - only constant SQL fragments are interpolated

UPDATE_RUNS = sa.text(f"""
UPDATE ingestion_runs AS r SET
    status = COALESCE(v.terminal, 'running'),
    records_processed = GREATEST(r.records_processed, v.processed),
    records_failed = GREATEST(r.records_failed, v.failed),
    total_estimated = GREATEST(r.total_estimated, v.total),
    started_at = CASE WHEN v.running
        THEN LEAST(r.started_at, COALESCE(v.running_at, now())) ELSE r.started_at END,
    completed_at = CASE WHEN v.terminal IS NULL
        THEN r.completed_at ELSE COALESCE(v.terminal_at, now()) END,
    error_message = CASE WHEN v.terminal IS NULL THEN r.error_message ELSE v.error END,
    error_code = CASE WHEN v.terminal IS NULL THEN r.error_code ELSE v.code END,
    error_detail = CASE WHEN v.terminal IS NULL
        THEN r.error_detail ELSE CAST(v.detail AS jsonb) END,
    updated_at = now()
FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:processed AS integer[]),
            CAST(:failed AS integer[]), CAST(:total AS integer[]), CAST(:running AS boolean[]),
            CAST(:running_at AS timestamptz[]), CAST(:terminal AS text[]),
            CAST(:terminal_at AS timestamptz[]), CAST(:errors AS text[]),
            CAST(:codes AS text[]), CAST(:details AS text[]), CAST(:credential AS boolean[]))
     AS v(id, tenant_id, processed, failed, total, running, running_at, terminal, terminal_at,
          error, code, detail, credential)
WHERE r.id = v.id AND r.tenant_id = v.tenant_id AND r.status IN ('pending', 'running')
RETURNING {RUN_COLUMNS}, v.terminal, v.credential
""")  # noqa: S608 - only constant SQL fragments are interpolated

# A run ended: its connection leaves `syncing` (unless another run is active) and, if this is
# the latest ending it has heard of, records it as the last sync.
_FRESH = "(c.last_sync_at IS NULL OR c.last_sync_at <= v.ts)"
_IDLE = (
    "(c.status = 'syncing' AND NOT EXISTS (SELECT 1 FROM ingestion_runs a "
    "WHERE a.connection_id = c.id AND a.status IN ('pending', 'running')))"
)
_REVERIFY = f"{_FRESH} AND v.reverify IS NOT NULL"
END_RUN_CONNECTIONS = sa.text(f"""
UPDATE data_source_connections AS c SET
    status = CASE WHEN {_IDLE} THEN 'idle' ELSE c.status END,
    last_sync_at = CASE WHEN {_FRESH} THEN v.ts ELSE c.last_sync_at END,
    last_sync_status = CASE WHEN {_FRESH} THEN v.status ELSE c.last_sync_status END,
    last_sync_error = CASE WHEN {_FRESH} THEN v.error ELSE c.last_sync_error END,
    enabled = CASE WHEN {_REVERIFY} THEN false ELSE c.enabled END,
    last_verification_error = CASE WHEN {_REVERIFY}
        THEN v.reverify ELSE c.last_verification_error END,
    last_verification_error_code = CASE WHEN {_REVERIFY}
        THEN v.reverify_code ELSE c.last_verification_error_code END,
    version = c.version + 1,
    updated_at = now()
FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:statuses AS text[]),
            CAST(:ts AS timestamptz[]), CAST(:errors AS text[]), CAST(:reverify AS text[]),
            CAST(:reverify_codes AS text[]))
     AS v(id, tenant_id, status, ts, error, reverify, reverify_code)
WHERE c.id = v.id AND c.tenant_id = v.tenant_id AND ({_FRESH} OR {_IDLE})
RETURNING {CONNECTION_COLUMNS}
""")  # noqa: S608 - only constant SQL fragments are interpolated

UPDATE_SYNC = sa.text(f"""
WITH v AS (
    SELECT CAST(:id AS uuid) AS id, CAST(:tenant AS uuid) AS tenant_id,
           CAST(:status AS text) AS status, CAST(:terminal AS boolean) AS terminal,
           COALESCE(CAST(:ts AS timestamptz), now()) AS ts,
           CAST(:last_status AS text) AS last_status, CAST(:error AS text) AS error
)
UPDATE data_source_connections AS c SET
    status = v.status,
    last_sync_at = CASE WHEN v.terminal THEN v.ts ELSE c.last_sync_at END,
    last_sync_status = CASE WHEN v.terminal THEN v.last_status ELSE c.last_sync_status END,
    last_sync_error = CASE WHEN v.terminal THEN v.error ELSE c.last_sync_error END,
    version = c.version + 1,
    updated_at = now()
FROM v
WHERE c.id = v.id AND c.tenant_id = v.tenant_id AND c.type IN ({KNOWLEDGE_TYPES_SQL})
  AND (c.last_sync_at IS NULL OR c.last_sync_at <= v.ts)
  AND (c.status, c.last_sync_at, c.last_sync_status, c.last_sync_error) IS DISTINCT FROM
      (v.status, CASE WHEN v.terminal THEN v.ts ELSE c.last_sync_at END,
       CASE WHEN v.terminal THEN v.last_status ELSE c.last_sync_status END,
       CASE WHEN v.terminal THEN v.error ELSE c.last_sync_error END)
RETURNING {CONNECTION_COLUMNS}
""")  # noqa: S608 - only constant SQL fragments are interpolated

CONNECTION_TENANTS = sa.text(
    "SELECT id, tenant_id FROM data_source_connections WHERE id = ANY(CAST(:ids AS uuid[]))"
)
RUN_TENANTS = sa.text(
    "SELECT id, tenant_id FROM ingestion_runs WHERE id = ANY(CAST(:ids AS uuid[]))"
)
# What the kind checks need: a connection's type, a run's connection.
CONNECTION_TYPES = sa.text(
    "SELECT id, tenant_id, type FROM data_source_connections WHERE id = ANY(CAST(:ids AS uuid[]))"
)
RUN_CONNECTIONS = sa.text(
    "SELECT id, tenant_id, connection_id FROM ingestion_runs WHERE id = ANY(CAST(:ids AS uuid[]))"
)
# Only constant SQL fragments are interpolated.
_SELECT_CONNECTIONS = sa.text(
    f"SELECT {CONNECTION_COLUMNS} FROM data_source_connections AS c"  # noqa: S608
    " WHERE c.id = ANY(CAST(:ids AS uuid[]))"
)
_SELECT_RUNS = sa.text(
    f"SELECT {RUN_COLUMNS} FROM ingestion_runs AS r"  # noqa: S608
    " WHERE r.id = ANY(CAST(:ids AS uuid[]))"
)


async def select_public(
    conn: AsyncConnection, kind: str, keys: Collection[tuple[UUID, UUID]]
) -> list[sa.Row[Any]]:
    """The public columns of these (id, tenant) rows as they are now."""
    if not keys:
        return []
    sql = _SELECT_CONNECTIONS if kind == "connection" else _SELECT_RUNS
    rows = await conn.execute(sql, {"ids": [k[0] for k in keys]})
    wanted = set(keys)
    return [r for r in rows if (r.id, r.tenant_id) in wanted]
