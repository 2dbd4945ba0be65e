"""The HTTP face of itsm-sync: `POST /webhook`, health, readiness and metrics."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request
from starlette.responses import JSONResponse, Response

from contracts import InvalidWebhook, parse_webhook
from itsm_sync.config import Settings
from itsm_sync.metrics import WEBHOOKS
from itsm_sync.rita import rita_reply, translate
from itsm_sync.service import Service
from itsm_sync.webhook_auth import WebhookRejected
from observability import metrics_response
from servicekit import (
    BodySizeLimitMiddleware,
    install_problem_handlers,
    problem,
    set_service_state,
)

log = structlog.get_logger(__name__)


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or `InvalidWebhook` (never quoting the body: it may be secret)."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidWebhook("body: not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidWebhook("body: must be a JSON object")
    return value


def create_app(settings: Settings, service: Service | None = None) -> FastAPI:
    """The ASGI app; with `service` given (tests), its life is managed by the caller."""
    owned = service is None
    svc = service or Service(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if owned:
            await svc.start()
        try:
            yield
        finally:
            if owned:
                await svc.stop()

    app = FastAPI(title="itsm-sync", version="0.1.0", lifespan=lifespan, docs_url=None)
    set_service_state(app, svc)
    install_problem_handlers(app)
    # A body over MAX_BODY_BYTES is refused with 413 before it is read whole (or authenticated).
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)

    @app.post("/webhook", status_code=202, operation_id="webhook-receive")
    async def receive_webhook(request: Request) -> Response:
        """Verify, de-duplicate, accept; the work happens in the background.

        Standard callers get 202 `{"status", "webhook_id"}`; a request in Rita's shape (`rita.py`)
        gets Rita's sync service's 200 `{"success", "message", "ingestion_run_id"}`.
        """
        structlog.contextvars.clear_contextvars()
        body = await request.body()
        try:
            auth = svc.authenticator.authenticate(body, dict(request.headers))
        except WebhookRejected as exc:
            WEBHOOKS.labels(action="unknown", outcome="rejected").inc()
            log.warning("webhook_rejected", reason=str(exc))
            return problem(401, "invalid_webhook", "Webhook rejected", str(exc))
        try:
            intake = translate(json_object(body), signed=auth.signed)
            hook = parse_webhook(intake.body)
        except InvalidWebhook as exc:
            WEBHOOKS.labels(action="unknown", outcome="invalid").inc()
            return problem(422, "invalid_webhook_body", "Invalid webhook body", str(exc))
        if svc.stopping:
            return problem(503, "shutting_down", "itsm-sync is shutting down; retry later")
        webhook_id = auth.webhook_id
        duplicate = not await svc.deps.store.remember_webhook(webhook_id, hook.action)
        outcome = "duplicate" if duplicate else "accepted"
        WEBHOOKS.labels(action=hook.action, outcome=outcome).inc()
        log.info(f"webhook_{outcome}", webhook_id=webhook_id, action=hook.action, rita=intake.rita)
        if not duplicate:
            svc.runs.accept(hook)
        if intake.rita:
            return rita_reply(hook, duplicate=duplicate)
        return JSONResponse({"status": outcome, "webhook_id": webhook_id}, status_code=202)

    @app.get("/healthz", operation_id="health-live")
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", operation_id="health-ready")
    async def readyz() -> Response:
        """The database and RabbitMQ answer."""
        try:
            await svc.deps.store.ping()
        except Exception:
            return problem(503, "database_unavailable", "The database does not answer")
        if not await svc.deps.publisher.ping():
            return problem(503, "broker_unavailable", "RabbitMQ does not answer")
        return JSONResponse({"status": "ready", "active_runs": svc.runs.active_runs})

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus exposition."""
        return metrics_response(request)

    return app
