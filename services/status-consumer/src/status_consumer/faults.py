"""Which failures are outages (wait and retry, never ack) and which are the message's fault.

A failure of the message's own data (the database refuses a value: out of range, not encodable,
too deep) can never succeed however often it is retried: such a message is dead-lettered at once.
The contract refuses the known cases before a transaction starts (`contracts.status_messages`);
this is the net for the ones it does not know.
"""

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


# SQLSTATE classes of a value the database will never accept: 22 data exception (out of range,
# untranslatable character, invalid text), 54 program limit exceeded (too deep, too complex).
_DATA_SQLSTATES = ("22", "54")


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def can_never_apply(exc: BaseException) -> bool:
    """Whether `exc` says the message's data is refused (retrying cannot help)."""
    for current in _chain(exc):
        # asyncpg reports a value it cannot encode (beyond int4, a lone surrogate) as a
        # `DataError` with SQLSTATE 22000, before anything reaches the server.
        if isinstance(current, asyncpg.DataError | UnicodeError | RecursionError):
            return True
        state = _sqlstate(current)
        if state and state.startswith(_DATA_SQLSTATES):
            return True
    return False


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` says a dependency (PostgreSQL, Redis) is unreachable right now."""
    for current in _chain(exc):
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
    return False
