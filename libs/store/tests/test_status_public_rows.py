"""The rows a batch returns are the contracts' models, equal to what the API makes of the row."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts import parse_status_message
from store import apply_status_batch
from store.public import connection_public, run_public
from store.tables import DataSourceConnection, IngestionRun


async def test_batch_rows_serialize_like_the_api_rows(engine: AsyncEngine) -> None:
    cid, rid, tenant = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # A whole second: the case where SQL-built JSON once wrote `.000000Z` and pydantic `Z`.
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    async with engine.begin() as c:
        # A session in another time zone: the rows must still carry the same instants.
        await c.execute(sa.text("SET LOCAL TIME ZONE 'America/New_York'"))
        await c.execute(
            sa.text(
                "INSERT INTO data_source_connections (id, tenant_id, type, name, status, enabled,"
                " version, settings, description) VALUES (:id, :t, 'jira_itsm', 'Jira \"ops\" ü',"
                " 'syncing', true, 3, CAST(:s AS jsonb), 'multi\nline')"
            ),
            {"id": cid, "t": tenant, "s": json.dumps({"base_url": "https://x"})},
        )
        await c.execute(
            sa.text(
                "INSERT INTO ingestion_runs (id, tenant_id, connection_id, status, time_range_days,"
                " records_processed, records_failed) VALUES (:id, :t, :c, 'running', 30, 7, 1)"
            ),
            {"id": rid, "t": tenant, "c": cid},
        )
        message = parse_status_message(
            {
                "type": "ticket_ingestion",
                "ingestion_run_id": str(rid),
                "tenant_id": str(tenant),
                "status": "failed",
                "error": "Jira said \u2028 no",
                "error_detail": {"error_code": "unreachable", "nested": {"n": [1.5, None]}},
                "timestamp": at.isoformat(),
            }
        )
        result = await apply_status_batch(c, [message])

    [conn_model] = result.connections
    [run_model] = result.runs
    async with AsyncSession(engine) as session:
        conn_row = await session.get(DataSourceConnection, cid)
        run_row = await session.get(IngestionRun, rid)
        assert conn_row is not None
        assert run_row is not None
        assert conn_model.model_dump_json() == connection_public(conn_row).model_dump_json()
        assert run_model.model_dump_json() == run_public(run_row).model_dump_json()
    assert run_model.completed_at == at
    assert json.loads(run_model.model_dump_json())["completed_at"] == "2026-01-02T03:04:05Z"
    assert (run_model.error_code, conn_model.last_sync_at) == ("unreachable", at)
