"""The one fast path of the API: `GET /api/data-sources` reads on the engine's driver connection.

Why it exists. The list is the console's hottest read (every console of a tenant refetches it
after each event). `bench/api.py` runs on 2026-11-30 (one tenant, 6 rows, 16 connections; each
ratio is against bare FastAPI in the same run; load average in brackets):

    previous hand-made asyncpg pool + PostgreSQL-built JSON + shared reads [~10]:  0.266 (461/1734)
    ORM session (`list_connections` + `connection_public`), FastAPI response [~10]: 0.023 (96/4264)
    this module, rows decoded column by column, DB_POOL_SIZE 10 [~4.7]:           0.105 (681/6507)
    this module as it is (one JSON text, pool of 20) [0.3, quiet machine]:        0.235 (2190/9333)

Measured with py-spy on the quiet machine: with a pool of 10 and 16 clients a third of the CPU
went to opening and closing overflow connections (DB_POOL_SIZE is 20 now); decoding ~25 typed
columns per row cost more than PostgreSQL handing over the page as one JSON text that pydantic
validates (`TypeAdapter.validate_json`) and writes again. What remains is the driver round trip
(~25 %), pydantic (~15 %) and FastAPI/uvicorn. The issue's target (ratio >= 0.4) is NOT reached:
the first wave's 0.52 came from sharing identical in-flight reads, which issue 9 rules out.

What it still shares with every other route (one database path, one serializer): the
connection comes from the same SQLAlchemy engine and pool (`engine.connect()`, returned to the
pool; a connection the server dropped is replaced and the read runs once more), and the rows
are validated and written by the contracts' pydantic models (`ConnectionPublic`,
`ConnectionsPublic`), so the list's JSON is byte for byte what `GET /api/data-sources/{id}` and
the SSE events carry for the same row. What it skips: SQLAlchemy's statement compilation,
cursor and result layers (the statement below is fixed and stays prepared in asyncpg's
statement cache), and FastAPI's second validation of the response.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final
from uuid import UUID

import asyncpg
import structlog
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import ALLOWED_DATA_SOURCE_TYPES, ConnectionPublic, ConnectionsPublic, DataSourceType

# Only `ConnectionPublic`'s field names (each a column of the same name) are interpolated; the
# tenant and the types are bind parameters. PostgreSQL hands the page over as one JSON text (one
# column to decode instead of ~25 typed ones per row); pydantic then validates it and writes the
# answer, so the serializer is the contracts' models as on every other path.
LIST_SQL: Final = (
    "SELECT coalesce(json_agg(t ORDER BY array_position($2::text[], t.type)), '[]')::text"  # noqa: S608
    f" FROM (SELECT {', '.join(ConnectionPublic.model_fields)} FROM data_source_connections"
    " WHERE tenant_id = $1 AND type = ANY($2::text[])) t"
)
log = structlog.get_logger()


_ROWS: Final = TypeAdapter(list[ConnectionPublic])


class ConnectionLister:
    """Reads a tenant's connections page; one per process (the lifespan state holds it)."""

    def __init__(self, engine: AsyncEngine) -> None:
        # The statement goes to the driver directly, outside any transaction (asyncpg runs it
        # in autocommit): no BEGIN/COMMIT round trips, and nothing to reset on return.
        self._engine = engine

    async def page_json(
        self, tenant_id: UUID, types: Iterable[DataSourceType] = ALLOWED_DATA_SOURCE_TYPES
    ) -> bytes:
        """The `ConnectionsPublic` document of the tenant's connections of `types`."""
        args = (tenant_id, [t.value for t in types])
        try:
            records = await self._fetch(args)
        except _Dropped:
            # The server dropped pooled connections (restart, failover, pg_terminate_backend):
            # start a fresh pool, as SQLAlchemy does when it sees a disconnect itself, and run
            # the read once more (a read is safe to repeat). An outage fails again: 503.
            log.warning("database_pool_replaced", path="list")
            await self._engine.dispose()
            records = await self._fetch(args)
        rows = _ROWS.validate_json(records)
        return ConnectionsPublic(data=rows, count=len(rows)).model_dump_json().encode()

    async def _fetch(self, args: tuple[object, ...]) -> str:
        async with self._engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: asyncpg.Connection = raw.driver_connection
            try:
                # SQLAlchemy's asyncpg adapter has set the json/jsonb codecs on this connection.
                records: str = await driver.fetchval(LIST_SQL, *args)
            except Exception as exc:
                if not driver.is_closed():
                    raise  # a statement error, not a lost connection
                await conn.invalidate()  # never back into the pool
                raise _Dropped from exc
        return records


class _Dropped(Exception):
    """The connection was closed under the statement."""
