"""The FastAPI application: lifespan-owned resources, routers, error handlers, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator

import httpx
import structlog
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from connections_api.config import Settings
from connections_api.errors import install_error_handlers
from connections_api.list_fast_path import ConnectionLister
from connections_api.metrics import MetricsMiddleware
from connections_api.read_retry import RetryReadOnDroppedConnection
from connections_api.reaper import reap_forever
from connections_api.relay import OutboxRelay
from connections_api.routes import data_sources, dev, events_token, health, me
from connections_api.state import AppState
from connections_api.tokens import CachingVerifier
from connections_api.webhooks import WebhookSender, WebhookTarget
from contracts.netpolicy import Resolver, system_resolver
from events import EventPublisher, connect_redis
from servicekit import BodySizeLimitMiddleware, set_service_state

log = structlog.get_logger()
APPLICATION_NAME = "connections-api"
# Webhook posts in flight to the sync service (the relay posts a batch concurrently, verify
# posts inline), and the idle connections kept for the next ones.
WEBHOOK_MAX_CONNECTIONS = 50
WEBHOOK_KEEPALIVE = 10


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def build_state(settings: Settings, resolver: Resolver = system_resolver) -> AppState:
    """Create the engine, Redis client and HTTP client (connections open lazily)."""
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,  # bursts may double it, then it shrinks back
        pool_recycle=settings.db_pool_recycle,
        # Named, so that operators (and the fault tests) can tell the API's sessions apart.
        connect_args={"server_settings": {"application_name": APPLICATION_NAME}},
    )
    redis = connect_redis(settings.redis_url, cluster=settings.redis_cluster)
    http = httpx.AsyncClient(
        timeout=settings.webhook_timeout,
        limits=httpx.Limits(
            max_connections=WEBHOOK_MAX_CONNECTIONS, max_keepalive_connections=WEBHOOK_KEEPALIVE
        ),
        follow_redirects=False,
    )
    verifier = settings.jwt_verifier()
    target = WebhookTarget(
        url=settings.sync_webhook_url,
        secret=settings.sync_webhook_secret.get_secret_value(),
        authorization=settings.sync_webhook_auth.get_secret_value(),
        timeout=settings.webhook_timeout,
        dialect=settings.sync_webhook_dialect,
    )
    return AppState(
        settings=settings,
        engine=engine,
        sessions=async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False),
        # Reads are single statements: autocommit saves the BEGIN and COMMIT round trips.
        read_sessions=async_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT"), class_=AsyncSession
        ),
        lister=ConnectionLister(engine, cache_seconds=settings.list_cache_seconds),
        redis=redis,
        http=http,
        publisher=EventPublisher(
            redis, prefix=settings.events_key_prefix, cluster=settings.redis_cluster
        ),
        verifier=verifier,
        tokens=CachingVerifier(verifier),
        sender=WebhookSender(http, target),
        resolver=resolver,
    )


@contextlib.asynccontextmanager
async def lifespan(
    app: FastAPI, settings: Settings, resolver: Resolver = system_resolver
) -> AsyncIterator[None]:
    """Own the shared resources and the background tasks; stop them cleanly on shutdown."""
    state = build_state(settings, resolver)
    set_service_state(app, state)
    tasks = [
        asyncio.create_task(OutboxRelay(state).run_forever(), name="outbox-relay"),
        asyncio.create_task(reap_forever(state), name="reaper"),
        asyncio.create_task(state.lister.listen_forever(), name="list-change-notices"),
    ]
    log.info("api_started", dev_mode=settings.auth_dev_mode)
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await state.http.aclose()
        await state.publisher.aclose()
        await state.redis.aclose()
        await state.engine.dispose()
        log.info("api_stopped")


def create_app(settings: Settings, *, resolver: Resolver = system_resolver) -> FastAPI:
    """Build the application for `settings` (`resolver`: the SSRF check's; tests pass a stub)."""
    app = FastAPI(
        title="Rita connections API",
        version="1.0.0",
        lifespan=functools.partial(lifespan, settings=settings, resolver=resolver),
        generate_unique_id_function=_operation_id,
        description="ITSM and knowledge source connections: verify, import tickets, watch runs.",
    )
    install_error_handlers(app)
    # Routes match in order: the console's hot list first, probes after.
    app.include_router(data_sources.router)
    app.include_router(health.router)
    app.include_router(events_token.router)
    app.include_router(me.router)
    if settings.auth_dev_mode:
        app.include_router(dev.router)
    # Outermost last: the metrics see every answer, the 413s included; the body limit runs
    # before routing, so an oversized body never reaches auth or the JSON parser.
    app.add_middleware(RetryReadOnDroppedConnection)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware)
    return app
