"""RFC 9457 problem+json: the one error shape of every Rita HTTP service.

A body is `{type, title, status, code, detail?, instance?, errors?}`; `code` is stable and
machine-readable, `title` and `detail` are for people. Errors a client can act on are
`ProblemError` subclasses carrying their status, code and title; `install_problem_handlers`
renders them, request validation errors (FastAPI), Starlette's `HTTPException` (404, 405, 413...)
and anything unexpected (500, logged by type only) in that shape.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar

import structlog
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger()

# Stable codes for the HTTP errors the framework raises itself.
HTTP_STATUS_CODES: dict[int, str] = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


class ProblemError(Exception):
    """An error the client can act on: HTTP status, stable code, readable title and detail."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers: dict[str, str] = dict(headers or {})


def problem_body(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The problem document as a dict (for a raw ASGI sender that writes its own bytes)."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    return body


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
    body = problem_body(status, code, title, detail, instance=instance, errors=errors)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_from(exc: ProblemError, *, instance: str | None = None) -> JSONResponse:
    """The response for a `ProblemError`."""
    return problem(
        exc.status,
        exc.code,
        exc.title,
        exc.detail,
        instance=instance,
        errors=exc.errors,
        headers=exc.headers,
    )


def safe_errors(exc: Exception, prefix: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Validation errors as `{loc, msg, type}` only: never the input (it may hold a secret)."""
    if isinstance(exc, ValidationError):
        raw: Any = exc.errors(include_input=False, include_url=False)
    else:  # FastAPI's RequestValidationError
        raw = getattr(exc, "errors", list)()
    return [
        {"loc": [*prefix, *(str(p) for p in e["loc"])], "msg": str(e["msg"]), "type": e["type"]}
        for e in raw
    ]


def _http_title(status: int) -> str:
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"


def http_problem_body(status: int, detail: str | None, instance: str | None) -> dict[str, Any]:
    """The problem document of a plain HTTP error (`code` from `HTTP_STATUS_CODES`)."""
    title = _http_title(status)
    return problem_body(
        status,
        HTTP_STATUS_CODES.get(status, "http_error"),
        title,
        detail if detail and detail != title else None,
        instance=instance,
    )


def http_problem(exc: HTTPException, *, instance: str | None = None) -> JSONResponse:
    """Starlette's `HTTPException` (routing 404/405, the body limit's 413...) as a problem."""
    body = http_problem_body(exc.status_code, str(exc.detail or ""), instance)
    return JSONResponse(
        body,
        status_code=exc.status_code,
        media_type=PROBLEM_JSON,
        headers=dict(exc.headers or {}),
    )


def install_problem_handlers(app: Starlette) -> None:
    """Every error of `app` leaves as problem+json with a stable code."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, ProblemError):
            raise exc
        return problem_from(exc, instance=request.url.path)

    async def on_http(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, HTTPException):
            raise exc
        return http_problem(exc, instance=request.url.path)

    async def on_validation(request: Request, exc: Exception) -> Response:
        return problem(
            422,
            "validation_error",
            "The request is not valid",
            "See `errors` for each invalid field",
            instance=request.url.path,
            errors=safe_errors(exc),
        )

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
        return problem(500, "internal_error", "Internal server error", instance=request.url.path)

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(HTTPException, on_http)
    try:
        from fastapi.exceptions import RequestValidationError
    except ImportError:  # a plain Starlette service has no request validation
        pass
    else:
        app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_unexpected)
