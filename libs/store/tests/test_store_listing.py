"""store.listing: the page PostgreSQL renders equals what pydantic makes of the same rows."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from contracts import (
    ALLOWED_DATA_SOURCE_TYPES,
    ConnectionsPublic,
    DataSourceType,
    SourceCategory,
    types_in_category,
)
from rita_testing import asyncpg_dsn
from store.connections import list_connections
from store.listing import connections_page_json
from store.public import connection_public


@pytest.fixture
async def conn(rita_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    c = await asyncpg.connect(asyncpg_dsn(rita_database_url))
    yield c
    await c.close()


async def _insert(conn: asyncpg.Connection, tenant: UUID, kind: str, **values: Any) -> None:
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "tenant_id": tenant,
        "type": kind,
        "name": kind,
        "status": "idle",
        "enabled": False,
        "version": 1,
        **values,
    }
    for key in ("settings", "config", "latest_options"):
        if key in row:
            row[key] = json.dumps(row[key])
    names = ", ".join(row)
    marks = ", ".join(f"${i}" for i in range(1, len(row) + 1))
    await conn.execute(
        f"INSERT INTO data_source_connections ({names}) VALUES ({marks})",  # noqa: S608
        *row.values(),
    )


async def _expected(url: str, tenant: UUID, types: tuple[DataSourceType, ...]) -> Any:
    """The page the ORM path builds (SQLModel rows → ConnectionPublic → pydantic JSON)."""
    engine = create_async_engine(url)
    try:
        async with AsyncSession(engine) as session:
            rows = await list_connections(session, tenant, types)
            page = ConnectionsPublic(data=[connection_public(r) for r in rows], count=len(rows))
    finally:
        await engine.dispose()
    return json.loads(page.model_dump_json())


async def test_page_equals_the_pydantic_document(
    conn: asyncpg.Connection, rita_database_url: str
) -> None:
    tenant, other = uuid.uuid4(), uuid.uuid4()
    await _insert(
        conn,
        tenant,
        "jira_itsm",
        description='Quotes " and \\ and\nnewlines, ünïcödé, \u2028 and emoji 🎫',
        settings={"base_url": "https://x.atlassian.net", "nested": {"list": [1, 2.5, None, True]}},
        config={"project_keys": ["IT", "OPS"]},
        latest_options={"projects": [{"key": "IT", "name": "Ops & IT"}]},
        status="syncing",
        enabled=True,
        version=42,
        last_verification_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no fraction
        last_sync_at=datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),  # trailing zeros
        last_sync_status="failed",
        last_sync_error="Jira said 401",
        last_verification_error=None,
        created_by="user-1",
        updated_by="user-2",
    )
    await _insert(conn, tenant, "confluence", description=None)
    await _insert(conn, tenant, "servicenow", last_sync_status="completed")
    await _insert(conn, other, "jira_itsm", name="another tenant's row")

    for types in (
        ALLOWED_DATA_SOURCE_TYPES,
        types_in_category(SourceCategory.ITSM),
        types_in_category(SourceCategory.KNOWLEDGE),
    ):
        page = json.loads(await connections_page_json(conn, tenant, types))
        assert page == await _expected(rita_database_url, tenant, types)
        assert all(row["tenant_id"] == str(tenant) for row in page["data"])
        assert [row["type"] for row in page["data"]] == [
            t.value for t in types if t.value in {"jira_itsm", "confluence", "servicenow"}
        ]
    jira = next(
        r
        for r in json.loads(await connections_page_json(conn, tenant))["data"]
        if r["type"] == "jira_itsm"
    )
    assert jira["last_verification_at"] == "2026-01-02T03:04:05Z"
    assert jira["last_sync_at"] == "2026-01-02T03:04:05.120000Z"


async def test_a_tenant_without_rows_gets_an_empty_page(conn: asyncpg.Connection) -> None:
    page = await connections_page_json(conn, uuid.uuid4())
    assert json.loads(page) == {"data": [], "count": 0}
