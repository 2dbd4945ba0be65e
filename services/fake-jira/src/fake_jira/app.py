"""The FastAPI application: Jira routes (v3 and v2), Jira-style errors, shared emulator plumbing."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from emulator.app import attach
from fake_jira.config import FakeJiraConfig
from fake_jira.guard import JiraError, on_refusal, state_of
from fake_jira.routes import VERSIONS, api_router
from fake_jira.state import FakeJiraState

log = structlog.get_logger(__name__)
_KNOWN = frozenset(
    (
        "serverInfo",
        "myself",
        "project",
        "project/search",
        "project/{projectIdOrKey}",
        "field",
        "issuetype",
        "status",
        "issue/{issueIdOrKey}",
        "search",
        "search/jql",
        "search/approximate-count",
    )
)
_API_PATH = re.compile(r"^/rest/api/(?P<version>[23])/(?P<rest>.+?)/?$")


def endpoint_name(method: str, path: str) -> str:
    """A bounded label: the endpoint template, ids and keys replaced, unknown paths as 'other'."""
    match = _API_PATH.match(path)
    if match is None:
        return f"{method} other"
    rest = match["rest"]
    if rest.startswith("issue/") and rest.count("/") == 1:
        rest = "issue/{issueIdOrKey}"
    elif rest.startswith("project/") and rest.count("/") == 1 and rest != "project/search":
        rest = "project/{projectIdOrKey}"
    if rest not in _KNOWN:
        return f"{method} other"
    return f"{method} /rest/api/{match['version']}/{rest}"


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


def _readiness(request: Request) -> dict[str, Any]:
    return {"issues": len(state_of(request).dataset.issues)}


def create_app(
    config: FakeJiraConfig | None = None, *, monotonic: Callable[[], float] = time.monotonic
) -> FastAPI:
    """Build the emulator for `config` (default: from the environment).

    `monotonic` drives the rate limiter and the site's clock; tests inject one to move time
    without sleeping.
    """
    config = config or FakeJiraConfig()
    state = FakeJiraState(config, monotonic)
    app = FastAPI(title="fake-jira", version="0.1.0", docs_url="/_admin/docs", redoc_url=None)
    app.state.fake_jira = state
    for version in VERSIONS:
        app.include_router(api_router(version))
    attach(
        app,
        state.core,
        api_prefixes=("/rest/",),
        endpoint_name=endpoint_name,
        readiness=_readiness,
        on_refusal=on_refusal,
    )
    app.add_exception_handler(JiraError, _jira_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    log.info(
        "dataset_ready",
        issues=len(state.dataset.issues),
        projects=len(state.dataset.projects),
        seed=config.seed,
        seconds=round(state.generation_seconds, 3),
    )
    return app
