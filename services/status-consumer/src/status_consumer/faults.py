"""Which failures are outages (wait and retry, never ack) and which are the message's fault."""

from __future__ import annotations

import asyncpg
import redis.exceptions
from sqlalchemy import exc as sa_exc

# SQLSTATE classes/codes that mean "the server or connection is unavailable, try again":
# 08 connection exception, 53 insufficient resources, 57P0x shutdown/terminated, 40001/40P01
# serialization failure/deadlock.
_TRANSIENT_SQLSTATES = ("08", "53", "57P", "40001", "40P01")


def _sqlstate(exc: BaseException) -> str | None:
    code = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return code if isinstance(code, str) else None


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` says a dependency (PostgreSQL, Redis) is unreachable right now."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(
            current,
            OSError
            | TimeoutError
            | asyncpg.PostgresConnectionError
            | asyncpg.InterfaceError
            | redis.exceptions.ConnectionError
            | redis.exceptions.TimeoutError
            | redis.exceptions.BusyLoadingError,
        ):
            return True
        state = _sqlstate(current)
        if state and state.startswith(_TRANSIENT_SQLSTATES):
            return True
        if isinstance(current, sa_exc.InterfaceError | sa_exc.OperationalError):
            return True
        current = current.__cause__ or current.__context__
    return False
