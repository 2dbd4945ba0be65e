"""Fixtures: the API with its lifespan on real PostgreSQL and Redis, and a real webhook receiver."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import structlog
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis

from connections_api.app import create_app
from connections_api.config import Settings
from connections_api.state import AppState
from observability import configure_logging
from rita_testing.connections_api import (
    JWT_SECRET,
    WEBHOOK_AUTH,
    WEBHOOK_SECRET,
    Api,
    Receiver,
    start_receiver,
)
from rita_testing.helpers import public_stub_resolver
from servicekit import service_state


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A running receiver; it answers 202 unless told to fail."""
    state, stop = await start_receiver()
    yield state
    await stop()


ApiFactory = Callable[..., Awaitable[Api]]
LIFESPAN_SECONDS = 60


@pytest.fixture
async def api_factory(
    module_database_url: str, redis_url: str, redis_prefix: str, receiver: Receiver
) -> AsyncIterator[ApiFactory]:
    """Start an app (lifespan run) with overrides; everything stops at the end of the test.

    The database is this module's own copy of the migrated template (rita_testing's
    `module_database_url`): no other module's rows, outbox or faults reach it."""
    stack: list[tuple[LifespanManager, httpx.AsyncClient, Redis]] = []

    async def start(**overrides: Any) -> Api:
        values: dict[str, Any] = {
            "database_url": module_database_url,
            "redis_url": redis_url,
            "events_key_prefix": redis_prefix,
            "auth_jwt_secret": JWT_SECRET,
            "auth_jwks_url": None,
            "auth_audience": None,
            "auth_issuer": None,
            "auth_dev_mode": True,
            "sync_webhook_url": receiver.url,
            "sync_webhook_secret": WEBHOOK_SECRET,
            "sync_webhook_auth": WEBHOOK_AUTH,
            "jira_allowed_private_hosts": "",
            "outbox_poll_interval": 0.05,
            "outbox_backoff_base": 0.05,
            "outbox_backoff_max": 0.2,
            "outbox_max_attempts": 3,
            "verify_webhook_attempts": 3,
            "verify_webhook_max_seconds": 5,
            "webhook_timeout": 2,
            "reaper_interval": 0.2,
            "db_pool_size": 5,
        }
        settings = Settings(**{**values, **overrides})
        app = create_app(settings, resolver=public_stub_resolver)
        # Generous bounds (not expectations): start-up and shutdown on a machine shared by many.
        manager = LifespanManager(
            app, startup_timeout=LIFESPAN_SECONDS, shutdown_timeout=LIFESPAN_SECONDS
        )
        await manager.__aenter__()
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://api"
        )
        redis = Redis.from_url(redis_url)
        stack.append((manager, client, redis))
        return Api(client, service_state(app, AppState), settings, module_database_url, redis)

    yield start
    for manager, client, redis in reversed(stack):
        await client.aclose()
        await redis.aclose()
        await manager.__aexit__(None, None, None)


@pytest.fixture
async def api(api_factory: ApiFactory) -> Api:
    """The app with the test defaults."""
    return await api_factory()


@pytest.fixture
def tenant() -> uuid.UUID:
    """A fresh tenant (tests share one database)."""
    return uuid.uuid4()


@pytest.fixture(autouse=True)
def _no_real_dns(no_real_dns: None) -> None:
    """Names the API resolves here go to a stub (`public_stub_resolver`), never to DNS."""


@pytest.fixture
def json_logs() -> Iterator[None]:
    """The service's logging as in production (JSON lines on stdout, all levels) for one test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("connections-api", level="DEBUG")
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)
