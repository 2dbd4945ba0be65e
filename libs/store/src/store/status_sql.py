"""The SQL of `store.status_apply`: set-based, guarded, one statement per kind of change.

Arrays travel as `unnest(...)` parameters (one round trip for a whole batch); JSON travels as text
and is cast in SQL. Every statement matches on id AND tenant_id.
"""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import ConnectionPublic, IngestionRunPublic

INSERT_RECEIPTS = sa.text(
    "INSERT INTO status_message_receipts (message_id) "
    "SELECT unnest(CAST(:ids AS text[])) ON CONFLICT DO NOTHING RETURNING message_id"
)

UPDATE_VERIFICATIONS = sa.text("""
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
RETURNING c.id, c.tenant_id
""")

UPDATE_RUNS = sa.text("""
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
          v.credential
""")

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
RETURNING c.id, c.tenant_id
""")  # noqa: S608 - only constant SQL fragments are interpolated

UPDATE_SYNC = sa.text("""
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
RETURNING c.id, c.tenant_id
""")

CONNECTION_TENANTS = sa.text(
    "SELECT id, tenant_id FROM data_source_connections WHERE id = ANY(CAST(:ids AS uuid[]))"
)
RUN_TENANTS = sa.text(
    "SELECT id, tenant_id FROM ingestion_runs WHERE id = ANY(CAST(:ids AS uuid[]))"
)
_SELECT_CONNECTIONS = sa.text(
    "SELECT * FROM data_source_connections WHERE id = ANY(CAST(:ids AS uuid[]))"
)
# The column is `metadata`, exactly the public field name.
_SELECT_RUNS = sa.text("SELECT * FROM ingestion_runs WHERE id = ANY(CAST(:ids AS uuid[]))")


async def load_connections(
    conn: AsyncConnection, keys: Collection[tuple[UUID, UUID]]
) -> list[ConnectionPublic]:
    """Public rows of these (id, tenant) connections, as they are now in this transaction."""
    if not keys:
        return []
    rows = await conn.execute(_SELECT_CONNECTIONS, {"ids": [k[0] for k in keys]})
    wanted = set(keys)
    return [
        ConnectionPublic.model_validate(dict(r._mapping))
        for r in rows
        if (r.id, r.tenant_id) in wanted
    ]


async def load_runs(
    conn: AsyncConnection, keys: Collection[tuple[UUID, UUID]]
) -> list[IngestionRunPublic]:
    """Public rows of these (id, tenant) runs, as they are now in this transaction."""
    if not keys:
        return []
    rows = await conn.execute(_SELECT_RUNS, {"ids": [k[0] for k in keys]})
    wanted = set(keys)
    return [
        IngestionRunPublic.model_validate(dict(r._mapping))
        for r in rows
        if (r.id, r.tenant_id) in wanted
    ]
