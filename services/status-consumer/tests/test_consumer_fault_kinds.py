"""Which failures wait for a dependency and which dead-letter the message at once (no servers)."""

from __future__ import annotations

import asyncpg
import redis.exceptions
import sqlalchemy.exc as sa_exc

from status_consumer.faults import can_never_apply, is_outage


def wrapped(cause: BaseException) -> sa_exc.DBAPIError:
    """As SQLAlchemy raises it: the driver's error as the cause."""
    try:
        raise sa_exc.DBAPIError("UPDATE ...", {}, cause) from cause
    except sa_exc.DBAPIError as exc:
        return exc


def test_a_value_the_driver_cannot_encode_can_never_apply() -> None:
    # What asyncpg raises for 3,000,000,000 in an `integer[]` parameter (SQLSTATE 22000).
    exc = wrapped(asyncpg.DataError("invalid input for query argument $3 (out of int32 range)"))
    assert (can_never_apply(exc), is_outage(exc)) == (True, False)


def test_data_exceptions_of_the_server_can_never_apply() -> None:
    exc = wrapped(asyncpg.exceptions.NumericValueOutOfRangeError("integer out of range"))
    assert (can_never_apply(exc), is_outage(exc)) == (True, False)
    deep = wrapped(asyncpg.exceptions.ProgramLimitExceededError("stack depth limit exceeded"))
    assert can_never_apply(deep)


def test_lost_connections_are_outages() -> None:
    for cause in (
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        redis.exceptions.ConnectionError("Connection refused"),
        ConnectionResetError(),
    ):
        exc = wrapped(cause)
        assert (can_never_apply(exc), is_outage(exc)) == (False, True), cause


def test_other_failures_are_neither() -> None:
    exc = wrapped(asyncpg.exceptions.RaiseError("refused by a trigger"))
    assert (can_never_apply(exc), is_outage(exc)) == (False, False)
