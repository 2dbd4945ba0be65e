"""A small pool of raw asyncpg connections for the hot read path; writes stay on the ORM.

Profiling the list endpoint showed asyncpg's own `Pool` costing ~20 µs of CPU per request (the
acquire/release bookkeeping, timers, the reset round trip), as much as the query itself. The
read path needs far less: a bounded set of connections, each running one autocommit statement
at a time. So: a semaphore for the bound, a stack of idle connections, and a connection a
statement failed on is thrown away, never reused.

Identical reads waiting for a connection share one execution (see `fetchval`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from connections_api.metrics import READS

# The server refuses writes on these connections, whatever a future caller tries.
_SERVER_SETTINGS = {
    "default_transaction_read_only": "on",
    "application_name": "connections-api-read",
}
_EXECUTED, _SHARED = READS.labels("executed"), READS.labels("shared")


class ReadAborted(Exception):
    """The request whose read others were waiting for was cancelled before it ran."""


def asyncpg_dsn(database_url: str) -> str:
    """The SQLAlchemy URL (`postgresql+asyncpg://...`) as a libpq DSN asyncpg accepts."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _key(query: str, args: tuple[Any, ...]) -> Hashable:
    return (query, *(tuple(a) if isinstance(a, list) else a for a in args))


class ReadPool:
    """Up to `size` connections, opened on first use (start-up never waits for the database)."""

    def __init__(self, database_url: str, size: int) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._slots = asyncio.Semaphore(size)
        self._idle: list[asyncpg.Connection] = []
        self._waiting: dict[Hashable, asyncio.Future[Any]] = {}
        self._closed = False

    async def fetchval(self, query: str, *args: Any) -> Any:
        """The first column of the first row of `query` (prepared once per connection).

        While every connection is busy, callers with the same statement and arguments (the
        same tenant's list) wait together and share one execution. Never stale: a caller only
        joins an execution that has not been sent yet, so the statement's snapshot is taken
        after every sharer arrived and shows each commit that finished before any of them.
        """
        key = _key(query, args)
        shared = self._waiting.get(key)
        if shared is not None:
            _SHARED.inc()
            return await asyncio.shield(shared)  # a caller that goes away leaves the rest be
        result: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[key] = result
        try:
            await self._slots.acquire()  # no suspension while a slot is free
        except BaseException:
            del self._waiting[key]
            _fail(result, ReadAborted())
            raise
        del self._waiting[key]  # sealed: whoever comes now starts the next execution
        _EXECUTED.inc()
        try:
            value = await self._execute(query, args)
        except BaseException as exc:
            _fail(result, exc if isinstance(exc, Exception) else ReadAborted())
            raise
        finally:
            self._slots.release()
        result.set_result(value)
        return value

    async def _execute(self, query: str, args: tuple[Any, ...]) -> Any:
        conn = self._pop_idle()
        if conn is not None:
            try:
                return await self._run(conn, query, args)
            except Exception:  # noqa: S110 - retried below; a real error fails again
                # The server may have dropped it while it sat idle (restart, failover, kill);
                # the statement only reads, so running it again on a new connection is safe.
                pass
        conn = await asyncpg.connect(self._dsn, server_settings=_SERVER_SETTINGS)
        return await self._run(conn, query, args)

    def _pop_idle(self) -> asyncpg.Connection | None:
        while self._idle:
            conn = self._idle.pop()  # most recently used first: its socket is warm
            if not conn.is_closed():
                return conn
        return None

    async def _run(self, conn: asyncpg.Connection, query: str, args: tuple[Any, ...]) -> Any:
        try:
            value = await conn.fetchval(query, *args)
        except BaseException:
            # Failed, cancelled or disconnected mid-statement: the protocol state is unknown,
            # so the connection is never reused (errors are rare on a single SELECT).
            conn.terminate()
            raise
        if self._closed:
            conn.terminate()
        else:
            self._idle.append(conn)
        return value

    async def close(self) -> None:
        """Close the idle connections; those in use are closed when their statement ends."""
        self._closed = True
        idle, self._idle = self._idle, []
        await asyncio.gather(*(conn.close(timeout=5) for conn in idle), return_exceptions=True)


def _fail(result: asyncio.Future[Any], exc: Exception) -> None:
    """Hand the error to the callers sharing `result` (none may be waiting: mark it seen)."""
    if not result.done():
        result.set_exception(exc)
        result.exception()
