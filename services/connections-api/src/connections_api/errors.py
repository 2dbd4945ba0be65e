"""Domain errors with a stable `code`, rendered as RFC 9457 problem+json by one set of handlers."""

from __future__ import annotations

from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
# SQLSTATEs of valid JSON strings that PostgreSQL cannot store: U+0000 in text (22021) and in
# jsonb (22P05). The client's input, not a server fault.
UNSTORABLE_SQLSTATES = frozenset({"22021", "22P05"})
log = structlog.get_logger()


class ApiError(Exception):
    """An error the client can act on: HTTP status, stable code, readable title and detail."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, *, errors: list[dict[str, Any]] | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers: dict[str, str] = {}


class Unauthorized(ApiError):
    status, code, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail)
        self.headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(ApiError):
    status, code, title = 403, "forbidden", "Only owners and admins may change connections"


class NotFound(ApiError):
    status, code, title = 404, "not_found", "Not found"


class UnsupportedType(ApiError):
    status, code, title = 400, "unsupported_type", "This connection type does not support that"


class InvalidInput(ApiError):
    status, code, title = 422, "validation_error", "The request is not valid"


class UnsafeUrl(ApiError):
    status, code, title = 422, "unsafe_url", "Rita's servers may not call that URL"


class CannotEnable(ApiError):
    status, code, title = 422, "cannot_enable", "A connection is enabled only by verification"


class SyncInProgress(ApiError):
    status, code, title = 409, "sync_in_progress", "A ticket import is already running"


class NotVerified(ApiError):
    status, code, title = 409, "not_verified", "Verify the credentials first"


class NoActiveRun(ApiError):
    status, code, title = 409, "no_active_run", "No ticket import is running"


class VerificationInProgress(ApiError):
    status, code, title = 409, "verification_in_progress", "A verification is in progress"


class SyncServiceUnavailable(ApiError):
    status, code, title = 502, "sync_service_unavailable", "Could not reach the sync service"


class Unavailable(ApiError):
    status, code, title = 503, "unavailable", "Service unavailable"


def problem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def safe_errors(exc: ValidationError | RequestValidationError, prefix: tuple[str, ...] = ()) -> Any:
    """Validation errors without the offending input (it may hold a secret)."""
    raw = (
        exc.errors(include_input=False, include_url=False)
        if isinstance(exc, ValidationError)
        else exc.errors()
    )
    return [
        {"loc": [*prefix, *(str(p) for p in e["loc"])], "msg": str(e["msg"]), "type": e["type"]}
        for e in raw
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as problem+json with a stable code."""

    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, ApiError):
            raise exc
        return problem(
            exc.status,
            exc.code,
            exc.title,
            exc.detail,
            instance=request.url.path,
            errors=exc.errors,
            headers=exc.headers,
        )

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, RequestValidationError):
            raise exc
        return problem(
            422,
            "validation_error",
            "The request is not valid",
            "See `errors` for each invalid field",
            instance=request.url.path,
            errors=safe_errors(exc),
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, StarletteHTTPException):
            raise exc
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem(
            exc.status_code,
            code,
            str(exc.detail),
            instance=request.url.path,
            headers=dict(exc.headers or {}),
        )

    async def database_error(request: Request, exc: Exception) -> JSONResponse:
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

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
        return problem(500, "internal_error", "Internal server error", instance=request.url.path)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(Exception, unexpected)
