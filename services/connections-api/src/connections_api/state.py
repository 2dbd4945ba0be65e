"""What the lifespan creates once per process and every request shares."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from uuid import UUID

import httpx
import structlog
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connections_api.config import Settings
from connections_api.metrics import EVENTS_PUBLISHED
from connections_api.readpool import ReadPool
from connections_api.tokens import CachingVerifier
from connections_api.webhooks import WebhookSender
from events import EventPublisher, OutgoingEvent
from rita_auth import JwtVerifier

log = structlog.get_logger()


@dataclass
class AppState:
    """Engine, sessions, Redis, the shared HTTP client, and the relay's wake-up signal."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]
    read_pool: ReadPool  # raw asyncpg for the hot list path
    redis: Redis
    http: httpx.AsyncClient
    publisher: EventPublisher
    verifier: JwtVerifier
    tokens: CachingVerifier
    sender: WebhookSender
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    # Tenants whose default rows this process has ensured (connections_api.defaults).
    tenants_with_defaults: set[UUID] = field(default_factory=set)

    async def publish(self, items: list[OutgoingEvent]) -> None:
        """Publish committed changes; a Redis failure is logged, never undoes the commit."""
        if not items:
            return
        try:
            await self.publisher.publish_many(items)
        except Exception as exc:  # the state is committed; clients refetch on resync
            EVENTS_PUBLISHED.labels("failed").inc(len(items))
            log.error("event_publish_failed", count=len(items), error_type=type(exc).__name__)
            return
        EVENTS_PUBLISHED.labels("published").inc(len(items))
