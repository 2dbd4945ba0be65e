"""The API's domain errors: servicekit problems with a stable `code` (RFC 9457 problem+json)."""

from __future__ import annotations

from typing import Any, Final

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from connections_api.database import DISCONNECTED, is_dropped_connection, is_outage
from connections_api.read_retry import DROPPED_MARK
from servicekit import (
    PROBLEM_JSON,
    ProblemError,
    install_problem_handlers,
    problem,
    problem_from,
    safe_errors,
)

__all__ = ["PROBLEM_JSON", "PROBLEM_RESPONSE", "problem", "safe_errors"]

# SQLSTATEs of valid JSON strings that PostgreSQL cannot store: U+0000 in text (22021) and in
# jsonb (22P05). The client's input, not a server fault.
UNSTORABLE_SQLSTATES = frozenset({"22021", "22P05"})
# The OpenAPI entry of a problem answer, for the routers' `responses`.
PROBLEM_RESPONSE: Final[dict[str, Any]] = {
    "content": {PROBLEM_JSON: {}},
    "description": "Problem details (RFC 9457)",
}
log = structlog.get_logger()


class Unauthorized(ProblemError):
    status, code, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ProblemError):
    status, code, title = 403, "forbidden", "Only owners and admins may change connections"


class NotFound(ProblemError):
    status, code, title = 404, "not_found", "Not found"


class UnsupportedType(ProblemError):
    status, code, title = 400, "unsupported_type", "This connection type does not support that"


class InvalidInput(ProblemError):
    status, code, title = 422, "validation_error", "The request is not valid"


class UnsafeUrl(ProblemError):
    status, code, title = 422, "unsafe_url", "Rita's servers may not call that URL"


class CannotEnable(ProblemError):
    status, code, title = 422, "cannot_enable", "A connection is enabled only by verification"


class SyncInProgress(ProblemError):
    status, code, title = 409, "sync_in_progress", "A ticket import is already running"


class NotVerified(ProblemError):
    status, code, title = 409, "not_verified", "Verify the credentials first"


class NoActiveRun(ProblemError):
    status, code, title = 409, "no_active_run", "No ticket import is running"


class VerificationInProgress(ProblemError):
    status, code, title = 409, "verification_in_progress", "A verification is in progress"


class SyncServiceUnavailable(ProblemError):
    status, code, title = 502, "sync_service_unavailable", "Could not reach the sync service"


class Unavailable(ProblemError):
    status, code, title = 503, "unavailable", "Service unavailable"


# A restart or failover of PostgreSQL takes seconds: clients (the console) retry after this.
DATABASE_RETRY_AFTER_SECONDS = 5


class DatabaseUnavailable(ProblemError):
    status, code, title = 503, "database_unavailable", "The database is unavailable"

    def __init__(self) -> None:
        super().__init__(
            "The database did not answer; try again shortly",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as problem+json with a stable code (servicekit), plus the database's:
    input PostgreSQL cannot store is 422, an unreachable database is 503 with Retry-After."""

    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        if is_outage(exc):
            if is_dropped_connection(exc):
                setattr(request.state, DROPPED_MARK, True)  # a read runs once more
            log.warning(
                "database_unavailable", path=request.url.path, error_type=type(exc).__name__
            )
            return problem_from(DatabaseUnavailable(), instance=request.url.path)
        sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
        if not isinstance(exc, DBAPIError) or sqlstate not in UNSTORABLE_SQLSTATES:
            raise exc
        return problem(
            422,
            "validation_error",
            "The request is not valid",
            "A text value holds a character that cannot be stored (U+0000)",
            instance=request.url.path,
        )

    install_problem_handlers(app)
    for kind in (DBAPIError, *DISCONNECTED, PoolTimeout, TimeoutError):
        app.add_exception_handler(kind, database_error)
