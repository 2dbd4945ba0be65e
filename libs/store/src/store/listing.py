"""The connections page (`ConnectionsPublic` JSON) built by PostgreSQL in one statement.

The list is the API's hottest read. PostgreSQL renders the finished document, so the API
passes bytes through instead of decoding rows, validating models and encoding JSON again.
The object's keys follow `ConnectionPublic`'s fields (each is a column of the same name), so
a field added to the contract appears here too; `tests/test_store_listing.py` checks that the
document equals what pydantic makes of the same rows.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final, Protocol
from uuid import UUID

from contracts import ALLOWED_DATA_SOURCE_TYPES, ConnectionPublic, DataSourceType


def _is_datetime(annotation: object) -> bool:
    return annotation is datetime or datetime in typing.get_args(annotation)


def _column(name: str, annotation: object) -> str:
    if not _is_datetime(annotation):
        return name
    # pydantic writes UTC as `...:SS.ffffffZ` and drops a zero fraction (`...:SSZ`); PostgreSQL's
    # own JSON would write `+00:00` and trim trailing zeros. Keep the text pydantic would send.
    utc = f"to_char({name} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    return f"replace({utc}, '.000000Z', 'Z') AS {name}"


_COLUMNS: Final = ", ".join(
    _column(name, field.annotation) for name, field in ConnectionPublic.model_fields.items()
)

# One row, one text column: `{"data": [...], "count": n}` in console order (position in $2).
# `json_agg(r)` renders each row of the subquery as a compact object keyed by its column
# names (cheaper for the server than `json_build_object`, and ~10 % fewer bytes).
# The table's CHECK constraints keep `type`, `status` and `last_sync_status` within the enums
# that `ConnectionPublic` would otherwise validate. Only field names of the contract are
# interpolated; the tenant and the types are bind parameters.
PAGE_SQL: Final = f"""
SELECT json_build_object(
    'data', coalesce(json_agg(r ORDER BY array_position($2::text[], r.type)), '[]'::json),
    'count', count(*))::text
FROM (
    SELECT {_COLUMNS} FROM data_source_connections
    WHERE tenant_id = $1 AND type = ANY($2::text[])
) AS r
"""  # noqa: S608


class Fetcher(Protocol):
    """An asyncpg connection, or a pool that runs the statement on one of its connections."""

    async def fetchval(self, query: str, *args: Any) -> Any:
        """The first column of the first row."""


async def connections_page_json(
    conn: Fetcher,
    tenant_id: UUID,
    types: Iterable[DataSourceType] = ALLOWED_DATA_SOURCE_TYPES,
) -> str:
    """The tenant's connections of `types` (in that order) as a `ConnectionsPublic` document."""
    # asyncpg keeps PAGE_SQL prepared per connection (statement cache): Bind/Execute only.
    page: str = await conn.fetchval(PAGE_SQL, tenant_id, [t.value for t in types])
    return page
