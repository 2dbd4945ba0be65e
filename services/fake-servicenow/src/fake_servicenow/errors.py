"""ServiceNow's error body, `{"error": {"message", "detail"}, "status": "failure"}`, and the
handlers that put every failure of the API in that shape."""

from __future__ import annotations

from fastapi import Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from emulator.core import Refusal

API_PREFIX = "/api/"
_FAULTS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ServiceNowError(Exception):
    """An error answered with ServiceNow's body."""

    def __init__(
        self,
        status: int,
        message: str,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message
        self.detail = detail
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        """The HTTP answer."""
        body = {"error": {"message": self.message, "detail": self.detail}, "status": "failure"}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


async def on_refusal(_request: Request, refusal: Refusal) -> Response:
    """Auth, rate-limit and injected failures in ServiceNow's words."""
    if refusal.reason == "unauthorized":
        return ServiceNowError(
            401,
            "User Not Authenticated",
            "Required to provide Auth information",
            headers={"WWW-Authenticate": 'BASIC realm="Service-now"'},
        ).response()
    if refusal.reason == "rate_limited" and refusal.decision is not None:
        decision = refusal.decision
        return ServiceNowError(
            429,
            "Too Many Requests",
            f"Rate limit of {decision.limit} requests exceeded; retry after "
            f"{decision.retry_after} seconds",
            headers={"Retry-After": str(decision.retry_after)},
        ).response()
    return ServiceNowError(
        refusal.status, _FAULTS.get(refusal.status, "Server Error"), None, refusal.headers
    ).response()


async def on_servicenow_error(_request: Request, exc: Exception) -> Response:
    """Render a `ServiceNowError`."""
    assert isinstance(exc, ServiceNowError)  # noqa: S101 - registered for it only
    return exc.response()


async def on_http_error(request: Request, exc: Exception) -> Response:
    """Unknown API paths answer 400 "Requested URI does not represent any resource", as
    ServiceNow does; other paths keep FastAPI's body."""
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    if not request.url.path.startswith(API_PREFIX):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
    if exc.status_code == 404:
        return ServiceNowError(400, "Requested URI does not represent any resource").response()
    if exc.status_code == 405:
        return ServiceNowError(405, "Method not Supported", str(exc.detail)).response()
    return ServiceNowError(exc.status_code, str(exc.detail)).response()


async def on_validation_error(request: Request, exc: Exception) -> Response:
    """Bad parameters in ServiceNow's shape."""
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    if not request.url.path.startswith(API_PREFIX):
        return await request_validation_exception_handler(request, exc)
    detail = "; ".join(
        f"{'.'.join(str(p) for p in error.get('loc', ()) if p not in ('query', 'body', 'path'))}:"
        f" {error.get('msg', 'invalid')}"
        for error in exc.errors()
    )
    return ServiceNowError(400, "Invalid request", detail).response()
