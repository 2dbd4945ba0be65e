"""The SQL of `store.status_apply`: set-based, guarded, one statement per kind of change.

Arrays travel as `unnest(...)` parameters (one round trip for a whole batch); JSON travels as text
and is cast in SQL. Every statement matches on id AND tenant_id. Each UPDATE returns the changed
row's public JSON (`public_json`), built by PostgreSQL from exactly the fields of the public model:
no follow-up SELECT, and no per-row pydantic work in the consumer, which passes the text on to
Redis as the event's data.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Collection
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import ConnectionPublic, IngestionRunPublic

# RFC 3339 in UTC whatever the session's TimeZone (pydantic parses it back to the same instant).
_ISO_UTC = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def _is_datetime(annotation: Any) -> bool:
    if annotation is datetime:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return datetime in typing.get_args(annotation)
    return False


def public_json(alias: str, model: type[BaseModel]) -> str:
    """SQL for the public JSON text of the row `alias`: the model's fields, nothing else.

    Built from the model so that a column added to the table (a secret, say) is never published;
    the table's column names are the public field names (`ingestion_runs.metadata` included).
    """
    pairs = []
    for name, field in model.model_fields.items():
        value = f'{alias}."{name}"'
        if _is_datetime(field.annotation):
            value = f"to_char({value} AT TIME ZONE 'UTC', '{_ISO_UTC}')"
        pairs.append(f"'{name}', {value}")
    return f"json_build_object({', '.join(pairs)})::text"


CONNECTION_JSON = public_json("c", ConnectionPublic)
RUN_JSON = public_json("r", IngestionRunPublic)

INSERT_RECEIPTS = sa.text(
    "INSERT INTO status_message_receipts (message_id) "
    "SELECT unnest(CAST(:ids AS text[])) ON CONFLICT DO NOTHING RETURNING message_id"
)

UPDATE_VERIFICATIONS = sa.text(f"""
UPDATE data_source_connections AS c SET
    status = 'idle',
    enabled = v.success,
    latest_options = CASE WHEN v.success
        THEN COALESCE(CAST(v.options AS jsonb), c.latest_options) ELSE c.latest_options END,
    last_verification_at = COALESCE(v.ts, now()),
    last_verification_error = CASE WHEN v.success
        THEN NULL ELSE COALESCE(v.error, 'Verification failed') END,
    version = c.version + 1,
    updated_at = now()
FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:success AS boolean[]),
            CAST(:options AS text[]), CAST(:ts AS timestamptz[]), CAST(:errors AS text[]))
     AS v(id, tenant_id, success, options, ts, error)
WHERE c.id = v.id AND c.tenant_id = v.tenant_id AND c.status = 'verifying'
RETURNING c.id, c.tenant_id, {CONNECTION_JSON} AS json
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
    error_detail = CASE WHEN v.terminal IS NULL
        THEN r.error_detail ELSE CAST(v.detail AS jsonb) END,
    updated_at = now()
FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:processed AS integer[]),
            CAST(:failed AS integer[]), CAST(:total AS integer[]), CAST(:running AS boolean[]),
            CAST(:running_at AS timestamptz[]), CAST(:terminal AS text[]),
            CAST(:terminal_at AS timestamptz[]), CAST(:errors AS text[]),
            CAST(:details AS text[]), CAST(:credential AS boolean[]))
     AS v(id, tenant_id, processed, failed, total, running, running_at, terminal, terminal_at,
          error, detail, credential)
WHERE r.id = v.id AND r.tenant_id = v.tenant_id AND r.status IN ('pending', 'running')
RETURNING r.id, r.tenant_id, r.connection_id, v.terminal, r.completed_at, r.error_message,
          v.credential, {RUN_JSON} AS json
""")  # noqa: S608 - only constant SQL fragments are interpolated

# A run ended: its connection leaves `syncing` (unless another run is active) and, if this is
# the latest ending it has heard of, records it as the last sync.
_FRESH = "(c.last_sync_at IS NULL OR c.last_sync_at <= v.ts)"
_IDLE = (
    "(c.status = 'syncing' AND NOT EXISTS (SELECT 1 FROM ingestion_runs a "
    "WHERE a.connection_id = c.id AND a.status IN ('pending', 'running')))"
)
END_RUN_CONNECTIONS = sa.text(f"""
UPDATE data_source_connections AS c SET
    status = CASE WHEN {_IDLE} THEN 'idle' ELSE c.status END,
    last_sync_at = CASE WHEN {_FRESH} THEN v.ts ELSE c.last_sync_at END,
    last_sync_status = CASE WHEN {_FRESH} THEN v.status ELSE c.last_sync_status END,
    last_sync_error = CASE WHEN {_FRESH} THEN v.error ELSE c.last_sync_error END,
    enabled = CASE WHEN {_FRESH} AND v.reverify IS NOT NULL THEN false ELSE c.enabled END,
    last_verification_error = CASE WHEN {_FRESH} AND v.reverify IS NOT NULL
        THEN v.reverify ELSE c.last_verification_error END,
    version = c.version + 1,
    updated_at = now()
FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:statuses AS text[]),
            CAST(:ts AS timestamptz[]), CAST(:errors AS text[]), CAST(:reverify AS text[]))
     AS v(id, tenant_id, status, ts, error, reverify)
WHERE c.id = v.id AND c.tenant_id = v.tenant_id AND ({_FRESH} OR {_IDLE})
RETURNING c.id, c.tenant_id, {CONNECTION_JSON} AS json
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
WHERE c.id = v.id AND c.tenant_id = v.tenant_id
  AND (c.last_sync_at IS NULL OR c.last_sync_at <= v.ts)
  AND (c.status, c.last_sync_at, c.last_sync_status, c.last_sync_error) IS DISTINCT FROM
      (v.status, CASE WHEN v.terminal THEN v.ts ELSE c.last_sync_at END,
       CASE WHEN v.terminal THEN v.last_status ELSE c.last_sync_status END,
       CASE WHEN v.terminal THEN v.error ELSE c.last_sync_error END)
RETURNING c.id, c.tenant_id, {CONNECTION_JSON} AS json
""")  # noqa: S608 - only constant SQL fragments are interpolated

CONNECTION_TENANTS = sa.text(
    "SELECT id, tenant_id FROM data_source_connections WHERE id = ANY(CAST(:ids AS uuid[]))"
)
RUN_TENANTS = sa.text(
    "SELECT id, tenant_id FROM ingestion_runs WHERE id = ANY(CAST(:ids AS uuid[]))"
)
# Only constant SQL fragments are interpolated.
_SELECT_CONNECTIONS = sa.text(
    f"SELECT c.id, c.tenant_id, {CONNECTION_JSON} AS json FROM data_source_connections AS c"  # noqa: S608
    " WHERE c.id = ANY(CAST(:ids AS uuid[]))"
)
_SELECT_RUNS = sa.text(
    f"SELECT r.id, r.tenant_id, r.connection_id, {RUN_JSON} AS json FROM ingestion_runs AS r"  # noqa: S608
    " WHERE r.id = ANY(CAST(:ids AS uuid[]))"
)


async def select_public(
    conn: AsyncConnection, kind: str, keys: Collection[tuple[UUID, UUID]]
) -> list[sa.Row[Any]]:
    """(id, tenant_id, json[, connection_id]) of these (id, tenant) rows as they are now."""
    if not keys:
        return []
    sql = _SELECT_CONNECTIONS if kind == "connection" else _SELECT_RUNS
    rows = await conn.execute(sql, {"ids": [k[0] for k in keys]})
    wanted = set(keys)
    return [r for r in rows if (r.id, r.tenant_id) in wanted]
