"""The one fast path of the API: `GET /api/data-sources`, kept in memory between changes.

Why it exists. The list is the console's hottest read: every console of a tenant refetches it
after each event. `bench/api.py` runs on 2026-11-30 (one tenant, 6 rows, 16 connections; each
ratio is against bare FastAPI in the same run; load average in brackets):

    previous hand-made asyncpg pool + PostgreSQL-built JSON + shared reads [~10]:  0.266 (461/1734)
    ORM session (`list_connections` + `connection_public`), FastAPI response [~10]: 0.023 (96/4264)
    the engine's driver connection, rows decoded column by column [~4.7]:         0.105 (681/6507)
    the engine's driver connection, one JSON text, pool of 20 [0.3, quiet]:        0.235 (2190/9333)
    this module, pages kept until the tenant's rows change [2.5]:  0.604 (3828/6333)
      the same run, LIST_CACHE_SECONDS=0 (a read per request):      0.232 (1471/6333)
    the same with probe notices, quiet [0.9]:                      0.552 (4875/8825)
      the same run, LIST_CACHE_SECONDS=0:                           0.195 (1724/8825)

CPU per request (`/proc`, 10,000 requests, same run): bare FastAPI ~120 µs, the API with a
database read per request ~425 µs, of which ~225 µs is the read itself (SQLAlchemy checkout and
asyncpg round trip ~100 µs, the rest the event loop's extra wake-ups). No trimming of the read
reaches the issue's 0.4 (~300 µs); not reading does. `bench/api.py` prints both figures
(`api_list_throughput` with this cache, `api_list_throughput_uncached` with
`LIST_CACHE_SECONDS=0`).

How the page stays right. Pages are kept per tenant and forgotten:
- when this process commits a change of the tenant's connections (`Unit.commit` calls
  `forget`), before it answers: a client reads its own writes;
- when PostgreSQL notifies a committed change by any writer (another API replica, the status
  consumer, rita-ops, psql): migration 0003's triggers NOTIFY `data_source_connections_changed`
  with the tenant; `listen_forever` holds one connection of the engine LISTENing. A page may
  trail another process's commit by that notice's delivery (well under a millisecond locally);
- after `LIST_CACHE_SECONDS` whatever happens;
- all at once whenever the LISTEN connection is lost, or a probe notice sent every
  `LISTEN_CHECK_SECONDS` through the pool does not come back through it in time (a half-open
  connection; a transaction-mode pooler, where LISTEN does not work). While the notices are not
  proven to arrive, nothing is kept: every read goes to the database, so an outage answers 503
  exactly as without the cache.
A read that started before a notice never stores its (older) page: `_changes` counts notices
and a page is kept only if the count did not move while it was read.

What it shares with every other route (one database path, one serializer, one retry): a miss
runs one fixed statement with SQLAlchemy's `exec_driver_sql` on the same engine and pool
(autocommit, no compilation); a connection the server dropped is handled as on every route
(SQLAlchemy invalidates the pool, `read_retry` runs the request once more). PostgreSQL hands the
page over as one JSON text, and the contracts' pydantic models (`ConnectionPublic`,
`ConnectionsPublic`) validate and write it, so the list's JSON is byte for byte what
`GET /api/data-sources/{id}` and the SSE events carry for the same row. What it skips: FastAPI's
second validation of the response (the route returns the bytes).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from typing import Any, Final
from uuid import UUID, uuid4

import asyncpg
import structlog
from cachetools import TTLCache
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncEngine
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from contracts import ALLOWED_DATA_SOURCE_TYPES, ConnectionPublic, ConnectionsPublic, DataSourceType
from observability import RetryLog
from store import CONNECTIONS_CHANGED_CHANNEL, PROBE_PREFIX, changed_tenant

# Only `ConnectionPublic`'s field names (each a column of the same name) are interpolated; the
# tenant and the types are bind parameters. One JSON text to decode instead of ~25 typed columns
# per row (measured: the typed columns cost more than pydantic's `validate_json`).
LIST_SQL: Final = (
    "SELECT coalesce(json_agg(t ORDER BY array_position($2::text[], t.type)), '[]')::text"  # noqa: S608
    f" FROM (SELECT {', '.join(ConnectionPublic.model_fields)} FROM data_source_connections"
    " WHERE tenant_id = $1 AND type = ANY($2::text[])) t"
)
# Tenants whose pages are kept (a page is a few KB; least recently used go first).
MAX_CACHED_TENANTS: Final = 10_000
# How often a probe notice must come back through the LISTEN connection (`_probe`): a connection
# cut without a FIN, or notices that stopped arriving, end the keeping within about twice this.
LISTEN_CHECK_SECONDS: Final = 5.0
# The LISTEN connection's name in pg_stat_activity (the pool's are `connections-api`).
LISTENER_APPLICATION_NAME: Final = "connections-api-list-notices"
# Back-off between attempts to LISTEN again after the connection was lost.
RELISTEN_WAIT: Final = wait_exponential_jitter(multiplier=0.1, max=5.0, jitter=0.1)

_ROWS: Final = TypeAdapter(list[ConnectionPublic])
_Types = tuple[str, ...]
log = structlog.get_logger()


class ConnectionLister:
    """Reads a tenant's connections page, kept between changes; one per process (lifespan)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        cache_seconds: float,
        check_seconds: float = LISTEN_CHECK_SECONDS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        # Reads run outside any transaction: no BEGIN/COMMIT round trips.
        self._engine = engine
        self._reads = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._cache_seconds = cache_seconds
        # TTLCache wants a positive ttl; with LIST_CACHE_SECONDS=0 nothing is ever stored in it.
        self._pages: TTLCache[UUID, dict[_Types, bytes]] = TTLCache(
            maxsize=MAX_CACHED_TENANTS, ttl=max(cache_seconds, 0.001), timer=timer
        )
        self._changes = 0  # notices and forgets seen; a read that saw it move keeps nothing
        self._listening = False
        self._check_seconds = check_seconds
        self._probe_token = ""
        self._probe_heard = asyncio.Event()

    @property
    def caching(self) -> bool:
        """Whether pages are kept now: the change notices are heard (never with a cache of 0 s,
        where `listen_forever` does not listen)."""
        return self._listening

    async def page_json(
        self, tenant_id: UUID, types: Iterable[DataSourceType] = ALLOWED_DATA_SOURCE_TYPES
    ) -> bytes:
        """The `ConnectionsPublic` document of the tenant's connections of `types`."""
        key = tuple(t.value for t in types)
        if self.caching and (kept := self._pages.get(tenant_id)) and (page := kept.get(key)):
            return page
        changes = self._changes
        page = await self._read(tenant_id, key)
        if self.caching and self._changes == changes:
            self._pages.setdefault(tenant_id, {})[key] = page
        return page

    def keeps(self, tenant_id: UUID) -> bool:
        """Whether a page of the tenant is kept now (for tests and debugging)."""
        return tenant_id in self._pages

    def forget(self, tenant_id: UUID | None) -> None:
        """Drop the tenant's pages (None: every tenant's) and any read of them in flight."""
        self._changes += 1
        if tenant_id is None:
            self._pages.clear()
        else:
            self._pages.pop(tenant_id, None)

    async def listen_forever(self) -> None:
        """Hear the change notices until cancelled, listening again after every loss."""
        if self._cache_seconds <= 0:
            return  # LIST_CACHE_SECONDS=0: every read goes to the database
        retrying = AsyncRetrying(
            wait=RELISTEN_WAIT,
            # Whatever ended it (lost connection, database down, a bug), listen again later;
            # meanwhile every read goes to the database. Cancellation is not an Exception.
            retry=retry_if_exception_type(Exception),
            before_sleep=RetryLog("list_cache_not_listening"),
        )
        async for attempt in retrying:
            with attempt:
                await self._listen()

    async def _listen(self) -> None:
        async with self._engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: asyncpg.Connection = raw.driver_connection
            lost = asyncio.Event()
            driver.add_termination_listener(lambda _conn: lost.set())
            try:
                # Named apart from the pool's connections, for operators and the fault tests.
                await driver.execute(f"SET application_name = '{LISTENER_APPLICATION_NAME}'")
                await driver.add_listener(CONNECTIONS_CHANGED_CHANNEL, self._on_notice)
                while True:
                    await self._probe()
                    if not self._listening:
                        # Changes made while nobody listened are unknown: start from nothing.
                        self.forget(None)
                        self._listening = True
                        log.info("list_cache_listening")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), self._check_seconds)
                    if lost.is_set():
                        raise _ListenLost("the LISTEN connection was closed")
            finally:
                self._listening = False
                self.forget(None)
                # A LISTENing connection never goes back to the pool.
                with contextlib.suppress(Exception):
                    await conn.invalidate()

    async def _probe(self) -> None:
        """Send a notice from a pooled connection and hear it on the LISTEN one, in time.

        The path every real change takes, proven before pages are kept and every few seconds
        after: a connection cut without a FIN, or a pooler in transaction mode (PgBouncer), where
        LISTEN does not work, stop the keeping instead of leaving pages stale."""
        token = f"{PROBE_PREFIX}{uuid4().hex}"
        self._probe_token, self._probe_heard = token, asyncio.Event()
        try:
            async with asyncio.timeout(self._check_seconds):
                async with self._reads.connect() as conn:
                    await conn.exec_driver_sql(
                        "SELECT pg_notify($1, $2)", (CONNECTIONS_CHANGED_CHANNEL, token)
                    )
                await self._probe_heard.wait()
        except TimeoutError:
            raise _ListenLost("the probe notice was not heard in time") from None

    def _on_notice(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload.startswith(PROBE_PREFIX):  # a probe names no tenant (any replica's)
            if payload == self._probe_token:
                self._probe_heard.set()
            return
        self.forget(changed_tenant(payload))

    async def _read(self, tenant_id: UUID, types: _Types) -> bytes:
        # A connection the server dropped fails here like any statement of the API: SQLAlchemy
        # invalidates the pool, the error handler answers 503 and marks the request, and
        # `read_retry` runs the read once more on a fresh connection.
        async with self._reads.connect() as conn:
            result = await conn.exec_driver_sql(LIST_SQL, (tenant_id, list(types)))
            records: str = result.scalar_one()
        rows = _ROWS.validate_json(records)
        return ConnectionsPublic(data=rows, count=len(rows)).model_dump_json().encode()


class _ListenLost(Exception):
    """The LISTEN connection was closed or stopped answering."""
