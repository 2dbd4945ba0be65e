"""The process's shared resources, started and stopped together."""

from __future__ import annotations

import httpx
import structlog

from itsm_sync.config import Settings
from itsm_sync.connectors.netguard import guarded_transport
from itsm_sync.crypto import CredentialCipher
from itsm_sync.db.engine import make_engine, make_sessionmaker
from itsm_sync.db.store import Store
from itsm_sync.deps import Deps
from itsm_sync.publisher import StatusPublisher
from itsm_sync.runs import RunManager
from itsm_sync.webhook_auth import WebhookAuthenticator

log = structlog.get_logger(__name__)


class Service:
    """Engine, the ITSM HTTP client, broker connection, webhook checker and the run manager."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.itsm_sync_database_url)
        timeout = httpx.Timeout(settings.itsm_sync_http_timeout, connect=10.0)
        http = httpx.AsyncClient(
            timeout=timeout,
            # Re-checks every address at connect time (DNS can change after the URL check).
            transport=guarded_transport(
                lambda: settings.private_hosts,
                httpx.Limits(max_connections=50, max_keepalive_connections=20),
            ),
            headers={"Accept": "application/json", "User-Agent": "rita-itsm-sync/0.1"},
        )
        self.deps = Deps(
            settings=settings,
            store=Store(make_sessionmaker(self.engine)),
            cipher=CredentialCipher(settings.encryption_key),
            http=http,
            publisher=StatusPublisher(settings.rabbitmq_url, settings.status_queue),
        )
        self.authenticator = WebhookAuthenticator(
            settings.sync_webhook_secret.get_secret_value(),
            settings.sync_webhook_auth.get_secret_value(),
            require_signature=settings.sync_webhook_require_signature,
        )
        self.runs = RunManager(self.deps)
        self.stopping = False

    async def start(self, *, resume: bool = True) -> None:
        """Connect to RabbitMQ, then resume runs a previous process left unfinished."""
        await self.deps.publisher.start()
        if resume:
            resumed = await self.runs.resume()
            log.info("itsm_sync_started", resumed_runs=resumed)

    async def stop(self) -> None:
        """Stop taking work, drain or cancel what runs, close every connection."""
        self.stopping = True
        await self.runs.drain(self.settings.itsm_sync_shutdown_grace)
        await self.deps.publisher.stop()
        await self.deps.http.aclose()
        await self.engine.dispose()
        log.info("itsm_sync_stopped")
