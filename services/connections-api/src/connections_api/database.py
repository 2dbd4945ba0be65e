"""Database connections that the server dropped, and database outages (issue 12 point 5).

- A pooled connection the server closed while idle (restart, failover, `pg_terminate_backend`)
  must never become a 5xx. Sessions check their connection with one statement when they start
  (`ensure_live`): SQLAlchemy recognises the disconnect, invalidates the whole pool (every
  connection opened before it is replaced at its next checkout) and the session goes on with a
  fresh connection. This is SQLAlchemy's `pool_pre_ping` done once per session instead of once
  per checkout, and without the BEGIN/ROLLBACK that its asyncpg ping wraps around the probe.
- A database that does not answer is an outage: every route answers 503 problem+json with
  `Retry-After` (`is_outage` decides; the handler is in `errors.py`).
"""

from __future__ import annotations

from typing import Final

import asyncpg
import sqlalchemy as sa
import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession

log = structlog.get_logger()

# What asyncpg raises when the connection itself is gone or cannot be made (SQLAlchemy wraps
# these in DBAPIError when it runs the statement; a failed connect surfaces as OSError).
DISCONNECTED: Final = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)
# SQLSTATE classes that mean "the server cannot serve now": 08 connection exception,
# 53 insufficient resources (too many connections), 57 operator intervention (shutdown).
_OUTAGE_SQLSTATE_CLASSES: Final = frozenset({"08", "53", "57"})
_PROBE: Final = sa.text("SELECT 1")


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` means the database is unreachable (as opposed to a bad statement)."""
    if isinstance(exc, (*DISCONNECTED, PoolTimeout, TimeoutError)):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
        if sqlstate[:2] in _OUTAGE_SQLSTATE_CLASSES:
            return True
        cause = getattr(exc.orig, "__cause__", None)
        return isinstance(cause, DISCONNECTED)
    return False


def is_dropped_connection(exc: BaseException) -> bool:
    """Whether the connection was lost under a statement (repeating a read is then safe)."""
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(
            getattr(exc.orig, "__cause__", None), DISCONNECTED
        )
    return isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.InterfaceError)


async def ensure_live(session: AsyncSession) -> None:
    """Give `session` a connection the server still holds (replacing a dropped one once)."""
    try:
        await session.execute(_PROBE)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("database_connection_replaced")
        await session.close()  # the pool was invalidated: the next statement opens a new one
        await session.execute(_PROBE)
