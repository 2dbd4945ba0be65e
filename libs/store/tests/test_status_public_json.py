"""The public JSON PostgreSQL builds for events equals the pydantic public row, field for field."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from contracts import ConnectionPublic, IngestionRunPublic
from store.status_sql import select_public


@pytest.fixture
async def engine(rita_database_url: str) -> AsyncIterator[AsyncEngine]:
    e = create_async_engine(rita_database_url)
    yield e
    await e.dispose()


async def test_public_json_matches_the_models(engine: AsyncEngine) -> None:
    cid, rid, tenant = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    async with engine.begin() as c:
        # A session in another time zone: the JSON must still carry the same instants.
        await c.execute(sa.text("SET LOCAL TIME ZONE 'America/New_York'"))
        await c.execute(
            sa.text(
                "INSERT INTO data_source_connections (id, tenant_id, type, name, status, enabled,"
                " version, settings, latest_options, last_sync_at, description)"
                " VALUES (:id, :t, 'jira_itsm', 'Jira \"ops\"', 'idle', true, 3,"
                " CAST(:s AS jsonb), NULL, :at, 'multi\nline')"
            ),
            {"id": cid, "t": tenant, "s": json.dumps({"base_url": "https://x"}), "at": at},
        )
        await c.execute(
            sa.text(
                "INSERT INTO ingestion_runs (id, tenant_id, connection_id, status, time_range_days,"
                " records_processed, records_failed, error_detail, started_at)"
                " VALUES (:id, :t, :c, 'failed', 30, 7, 1, CAST(:d AS jsonb), :at)"
            ),
            {"id": rid, "t": tenant, "c": cid, "d": json.dumps({"error_code": "x"}), "at": at},
        )
        [conn_row] = await select_public(c, "connection", [(cid, tenant)])
        [run_row] = await select_public(c, "ingestion_run", [(rid, tenant)])
        conn_db = (
            await c.execute(
                sa.text("SELECT * FROM data_source_connections WHERE id=:i"), {"i": cid}
            )
        ).one()
        run_db = (
            await c.execute(sa.text("SELECT * FROM ingestion_runs WHERE id=:i"), {"i": rid})
        ).one()
        # Another tenant's keys select nothing.
        assert await select_public(c, "connection", [(cid, uuid.uuid4())]) == []

    assert set(json.loads(conn_row.json)) == set(ConnectionPublic.model_fields)
    assert set(json.loads(run_row.json)) == set(IngestionRunPublic.model_fields)
    assert ConnectionPublic.model_validate_json(conn_row.json) == ConnectionPublic.model_validate(
        dict(conn_db._mapping)
    )
    assert IngestionRunPublic.model_validate_json(
        run_row.json
    ) == IngestionRunPublic.model_validate(dict(run_db._mapping))
    assert ConnectionPublic.model_validate_json(conn_row.json).last_sync_at == at
