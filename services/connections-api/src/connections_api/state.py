"""What the lifespan creates once per process and every request shares."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from uuid import UUID

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connections_api.config import Settings
from connections_api.list_fast_path import ConnectionLister
from connections_api.metrics import EVENTS_PUBLISHED
from connections_api.tokens import CachingVerifier
from connections_api.webhooks import WebhookSender
from contracts.netpolicy import Resolver, system_resolver
from events import EventPublisher, EventsRedis, OutgoingEvent
from rita_auth import JwtVerifier


@dataclass
class AppState:
    """Engine, sessions, Redis, the shared HTTP client, and the relay's wake-up signal."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]
    lister: ConnectionLister  # the list's fast path, on the same engine
    redis: EventsRedis
    http: httpx.AsyncClient
    publisher: EventPublisher
    verifier: JwtVerifier
    tokens: CachingVerifier
    sender: WebhookSender
    # Names in an outbound URL are resolved with it (SSRF check); tests pass a stub, so no test
    # sends a DNS query beyond loopback.
    resolver: Resolver = system_resolver
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    # Tenants whose default rows this process has ensured (connections_api.defaults).
    tenants_with_defaults: set[UUID] = field(default_factory=set)

    async def publish(self, items: list[OutgoingEvent]) -> None:
        """Publish committed changes. A Redis failure never undoes the commit and is never
        silent: the publisher sends the affected tenants `resync` once Redis is back."""
        if not items:
            return
        published = await self.publisher.publish_committed(items)
        EVENTS_PUBLISHED.labels("published" if published else "failed").inc(len(items))
