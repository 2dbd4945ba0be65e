"""The one fast path of the API: `GET /api/data-sources` reads on the engine's driver connection.

Why it exists. The list is the console's hottest read (every console of a tenant refetches it
after each event). Through the ORM (session, entity rows, `connection_public`) the API spent
~6x the CPU of this path per request, and `bench/api.py` measured (2026-11-30, load average
~10 on the shared 2-core machine, same run for each pair):

    ORM session + pydantic:                     96 req/s vs bare FastAPI 4264: ratio 0.023
    this module (see the README's Benchmark):  the figure beside it in the README table

Target (issue 9): ratio >= 0.4 of bare FastAPI in the same run. The ORM path cannot reach it.

What it still shares with every other route (so there is one database path and one
serializer): the connection comes from the same SQLAlchemy engine and pool (`engine.connect()`,
pre-pinged, returned to the pool); the rows are validated and written by the contracts'
pydantic models (`ConnectionPublic`, `ConnectionsPublic`), so the list's JSON is byte for byte
what `GET /api/data-sources/{id}` and the SSE events carry for the same row. What it skips:
SQLAlchemy's statement compilation, cursor and result layers (the statement below is fixed and
stays prepared in asyncpg's statement cache), and FastAPI's second validation of the response.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final
from uuid import UUID

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import ALLOWED_DATA_SOURCE_TYPES, ConnectionPublic, ConnectionsPublic, DataSourceType

# Only `ConnectionPublic`'s field names (each a column of the same name) are interpolated; the
# tenant and the types are bind parameters. Rows come in console order (the order of $2).
LIST_SQL: Final = (
    f"SELECT {', '.join(ConnectionPublic.model_fields)} FROM data_source_connections"  # noqa: S608
    " WHERE tenant_id = $1 AND type = ANY($2::text[])"
    " ORDER BY array_position($2::text[], type)"
)


# What asyncpg raises when the connection itself is gone (SQLAlchemy only sees its own calls).
DISCONNECTED: Final = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)


class ConnectionLister:
    """Reads a tenant's connections page; one per process (the lifespan state holds it)."""

    def __init__(self, engine: AsyncEngine) -> None:
        # Autocommit: a single SELECT needs no BEGIN/COMMIT round trips.
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def page_json(
        self, tenant_id: UUID, types: Iterable[DataSourceType] = ALLOWED_DATA_SOURCE_TYPES
    ) -> bytes:
        """The `ConnectionsPublic` document of the tenant's connections of `types`."""
        args = (tenant_id, [t.value for t in types])
        try:
            records = await self._fetch(args)
        except DISCONNECTED:
            # The server dropped the connection between the pool's ping and the statement
            # (restart, failover, pg_terminate_backend): a read is safe to run once more.
            records = await self._fetch(args)
        rows = [ConnectionPublic.model_validate(dict(record)) for record in records]
        return ConnectionsPublic(data=rows, count=len(rows)).model_dump_json().encode()

    async def _fetch(self, args: tuple[object, ...]) -> list[asyncpg.Record]:
        async with self._engine.connect() as conn:
            raw = await conn.get_raw_connection()
            try:
                # SQLAlchemy's asyncpg adapter has set the json/jsonb codecs on this connection.
                records: list[asyncpg.Record] = await raw.driver_connection.fetch(LIST_SQL, *args)  # type: ignore[union-attr]
            except DISCONNECTED:
                await conn.invalidate()  # never back into the pool
                raise
        return records
