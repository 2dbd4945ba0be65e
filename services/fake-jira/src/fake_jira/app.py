"""The FastAPI application: Jira routes, Jira-style errors, counters, admin and health."""

from __future__ import annotations

import time

import structlog
from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fake_jira.admin import router as admin_router
from fake_jira.config import FakeJiraConfig
from fake_jira.guard import EXTRA_HEADERS, JiraError
from fake_jira.routes import router as jira_router
from fake_jira.state import FakeJiraState
from observability import metrics_response

log = structlog.get_logger(__name__)
_KNOWN = frozenset(
    f"/rest/api/3/{path}"
    for path in ("myself", "project/search", "issuetype", "status", "search/jql")
) | {"/rest/api/3/search/approximate-count"}


class CountingMiddleware:
    """Counts /rest requests by endpoint and status, and adds the limiter's headers."""

    def __init__(self, app: ASGIApp, state: FakeJiraState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/rest/"):
            await self.app(scope, receive, send)
            return
        endpoint = f"{scope['method']} {path if path in _KNOWN else 'other'}"
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra: dict[str, str] = scope.get(EXTRA_HEADERS) or {}
                if extra:
                    headers = list(message.get("headers", []))
                    present = {name.lower() for name, _ in headers}
                    headers += [
                        (name.lower().encode(), value.encode())
                        for name, value in extra.items()
                        if name.lower().encode() not in present
                    ]
                    message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.state.stats.record(endpoint, status)
            self.state.metrics.requests.labels(endpoint, str(status)).inc()
            self.state.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)


async def _jira_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, JiraError)  # noqa: S101 - registered for JiraError only
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    if not request.url.path.startswith("/rest/"):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
    message = "Null (java.lang.NullPointerException)" if exc.status_code >= 500 else str(exc.detail)
    if exc.status_code == 404:
        message = "No resource found for this path."
    return JiraError(exc.status_code, message).response()


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    if not request.url.path.startswith("/rest/"):
        return await request_validation_exception_handler(request, exc)
    messages = [
        f"{'.'.join(str(p) for p in error.get('loc', ()) if p not in ('query', 'body'))}: "
        f"{error.get('msg', 'invalid')}"
        for error in exc.errors()
    ]
    return JiraError(400, *messages).response()


def create_app(config: FakeJiraConfig | None = None) -> FastAPI:
    """Build the emulator for `config` (default: from the environment)."""
    config = config or FakeJiraConfig()
    state = FakeJiraState(config)
    app = FastAPI(title="fake-jira", version="0.1.0", docs_url="/_admin/docs", redoc_url=None)
    app.state.fake_jira = state
    app.include_router(jira_router)
    app.include_router(admin_router)
    app.add_exception_handler(JiraError, _jira_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(CountingMiddleware, state=state)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        return metrics_response(request, state.metrics.registry)

    log.info(
        "dataset_ready",
        issues=len(state.dataset.issues),
        projects=len(state.dataset.projects),
        seed=config.seed,
        seconds=round(state.generation_seconds, 3),
    )
    return app
