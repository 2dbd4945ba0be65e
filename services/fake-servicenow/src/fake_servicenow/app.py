"""The FastAPI application: Table API routes, ServiceNow errors, shared emulator plumbing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from emulator.app import attach
from fake_servicenow.admin import router as churn_router
from fake_servicenow.config import FakeServiceNowSettings
from fake_servicenow.errors import (
    API_PREFIX,
    ServiceNowError,
    on_http_error,
    on_refusal,
    on_servicenow_error,
    on_validation_error,
)
from fake_servicenow.routes import router as api_router
from fake_servicenow.routes import state_of
from fake_servicenow.state import FakeServiceNowState
from fake_servicenow.tables import TABLES

log = structlog.get_logger(__name__)


def endpoint_name(method: str, path: str) -> str:
    """A bounded label: the table (or stats) endpoint, without sys_ids or unknown names."""
    parts = path.strip("/").split("/")
    if len(parts) >= 4 and parts[:2] == ["api", "now"] and parts[3] in TABLES:
        kind = "table" if parts[2] == "table" else "stats" if parts[2] == "stats" else ""
        if kind:
            suffix = "/{sys_id}" if kind == "table" and len(parts) == 5 else ""
            return f"{method} /api/now/{kind}/{parts[3]}{suffix}"
    return f"{method} other"


def _readiness(request: Request) -> dict[str, Any]:
    return {"incidents": len(state_of(request).dataset.tables["incident"])}


def create_app(
    settings: FakeServiceNowSettings | None = None,
    *,
    monotonic: Callable[[], float] = time.monotonic,
) -> FastAPI:
    """Build the emulator for `settings` (default: from the environment).

    `monotonic` drives the rate limiter and the instance's clock; tests inject one to move
    time without sleeping.
    """
    settings = settings or FakeServiceNowSettings()
    state = FakeServiceNowState(settings, monotonic)
    app = FastAPI(title="fake-servicenow", version="0.1.0", docs_url="/_admin/docs", redoc_url=None)
    app.state.fake_servicenow = state
    app.include_router(api_router)
    app.include_router(churn_router)
    attach(
        app,
        state.core,
        api_prefixes=(API_PREFIX,),
        endpoint_name=endpoint_name,
        readiness=_readiness,
        on_refusal=on_refusal,
    )
    app.add_exception_handler(ServiceNowError, on_servicenow_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    tables = state.dataset.tables
    log.info(
        "dataset_ready",
        incidents=len(tables["incident"]),
        groups=len(tables["sys_user_group"]),
        users=len(tables["sys_user"]),
        seed=settings.seed,
        seconds=round(state.generation_seconds, 3),
    )
    return app
