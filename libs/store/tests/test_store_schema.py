"""The migrated schema enforces what the design says the database enforces."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from rita_testing import asyncpg_dsn


async def _insert_connection(conn: asyncpg.Connection, tenant: uuid.UUID, kind: str) -> uuid.UUID:
    connection_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO data_source_connections (id, tenant_id, type, name, status, enabled, version)"
        " VALUES ($1, $2, $3, 'x', 'idle', false, 1)",
        connection_id,
        tenant,
        kind,
    )
    return connection_id


async def _insert_run(
    conn: asyncpg.Connection, tenant: uuid.UUID, connection_id: uuid.UUID, status: str
) -> None:
    await conn.execute(
        "INSERT INTO ingestion_runs (id, tenant_id, connection_id, status, time_range_days,"
        " records_processed, records_failed) VALUES ($1, $2, $3, $4, 30, 0, 0)",
        uuid.uuid4(),
        tenant,
        connection_id,
        status,
    )


async def test_one_connection_per_tenant_and_type_and_only_allowed_types(
    rita_database_url: str,
) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(rita_database_url))
    try:
        tenant = uuid.uuid4()
        await _insert_connection(conn, tenant, "jira_itsm")
        with pytest.raises(asyncpg.UniqueViolationError):
            await _insert_connection(conn, tenant, "jira_itsm")
        with pytest.raises(asyncpg.CheckViolationError):
            await _insert_connection(conn, tenant, "freshdesk")
        await _insert_connection(conn, uuid.uuid4(), "jira_itsm")
    finally:
        await conn.close()


async def test_database_allows_one_active_run_per_connection(rita_database_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(rita_database_url))
    try:
        tenant = uuid.uuid4()
        connection_id = await _insert_connection(conn, tenant, "servicenow")
        await _insert_run(conn, tenant, connection_id, "completed")
        await _insert_run(conn, tenant, connection_id, "pending")
        with pytest.raises(asyncpg.UniqueViolationError):
            await _insert_run(conn, tenant, connection_id, "running")
        await _insert_run(conn, tenant, connection_id, "cancelled")
    finally:
        await conn.close()


def test_migrations_match_the_table_models(rita_database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "check"],
        cwd=Path(__file__).resolve().parents[3] / "services" / "connections-api",
        env={**os.environ, "DATABASE_URL": rita_database_url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
