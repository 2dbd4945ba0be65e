"""A small pool of raw asyncpg connections for the hot read path; writes stay on the ORM.

Profiling the list endpoint showed asyncpg's own `Pool` costing ~20 µs of CPU per request (the
acquire/release bookkeeping, timers, the reset round trip), as much as the query itself. The
read path needs far less: a bounded set of connections, each running one autocommit statement
at a time. So: a semaphore for the bound, a stack of idle connections, and a connection a
statement failed on is thrown away, never reused.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

# The server refuses writes on these connections, whatever a future caller tries.
_SERVER_SETTINGS = {
    "default_transaction_read_only": "on",
    "application_name": "connections-api-read",
}


def asyncpg_dsn(database_url: str) -> str:
    """The SQLAlchemy URL (`postgresql+asyncpg://...`) as a libpq DSN asyncpg accepts."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class ReadPool:
    """Up to `size` connections, opened on first use (start-up never waits for the database)."""

    def __init__(self, database_url: str, size: int) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._slots = asyncio.Semaphore(size)
        self._idle: list[asyncpg.Connection] = []
        self._closed = False

    async def fetchval(self, query: str, *args: Any) -> Any:
        """The first column of the first row of `query` (prepared once per connection)."""
        await self._slots.acquire()  # no suspension while a slot is free
        try:
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
        finally:
            self._slots.release()

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
