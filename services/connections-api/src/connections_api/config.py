"""Settings from the environment (DESIGN.md §3 names); a missing required value stops start-up."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator

from connections_api.dialect import Dialect
from contracts import EVENTS_KEY_PREFIX, PrivateHostsSettings
from rita_auth import AuthSettings
from servicekit import ServiceSettings


class Settings(ServiceSettings, AuthSettings, PrivateHostsSettings):
    """connections-api configuration (field name = variable name; see servicekit.settings).

    Inherited: HOST, PORT (8000), LOG_LEVEL, LOG_FORMAT, MAX_BODY_BYTES (64 KiB); AUTH_JWT_SECRET,
    AUTH_JWKS_URL, AUTH_ISSUER, AUTH_AUDIENCE, EVENTS_TOKEN_SECRET (rita_auth.AuthSettings);
    ALLOWED_PRIVATE_HOSTS, JIRA_ALLOWED_PRIVATE_HOSTS (contracts.PrivateHostsSettings).
    """

    database_url: str = "postgresql+asyncpg://root@127.0.0.1:5432/rita"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # A Redis Cluster: hash-tagged event keys, sharded pub/sub (libs/events).
    redis_cluster: bool = False
    auth_dev_mode: bool = False
    sync_webhook_url: str = "http://127.0.0.1:8003/webhook"
    sync_webhook_secret: SecretStr = SecretStr("")
    sync_webhook_auth: SecretStr = SecretStr("")  # sent verbatim as Authorization
    # `rita`: Rita's key names in the webhooks, to drive a sync service written for Rita's API.
    sync_webhook_dialect: Dialect = Dialect.STANDARD
    stale_run_timeout: float = Field(default=1800, gt=0)
    # A verification with no result after this long ends `idle` with `verification_timeout`.
    verify_timeout: float = Field(default=120, gt=0)
    events_key_prefix: str = EVENTS_KEY_PREFIX
    # Inline verify webhook: attempts and total time bound (each request times out after 10 s).
    webhook_timeout: float = Field(default=10, gt=0)
    verify_webhook_attempts: int = Field(default=3, ge=1)
    verify_webhook_max_seconds: float = Field(default=20, gt=0)
    # Outbox relay and reaper.
    outbox_poll_interval: float = Field(default=1.0, gt=0)
    outbox_batch_size: int = Field(default=20, ge=1)
    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_backoff_base: float = Field(default=1.0, gt=0)
    outbox_backoff_max: float = Field(default=300, gt=0)
    reaper_interval: float = Field(default=60, gt=0)
    # Pooled connections kept open. Above it, overflow connections are opened and closed per use
    # (bench/api.py, 16 clients: with 10, a third of the CPU went to connecting; 20 doubled the
    # list's throughput). Size it to the requests in flight one process serves.
    db_pool_size: int = Field(default=20, ge=1)
    # Seconds before a pooled connection is replaced: below the idle timeouts of the proxies and
    # load balancers that may sit in front of PostgreSQL in production.
    db_pool_recycle: int = Field(default=1800, ge=1)
    # The list's pages are kept in memory at most this long, forgotten at every committed change
    # of the tenant's connections (connections_api.list_fast_path); 0 reads the database every time.
    list_cache_seconds: float = Field(default=30, ge=0)

    @model_validator(mode="after")
    def _webhook_secret_configured(self) -> Self:
        webhook_secret = self.sync_webhook_secret.get_secret_value()
        if not webhook_secret:
            raise ValueError("SYNC_WEBHOOK_SECRET is required")
        if not webhook_secret.startswith("whsec_"):
            raise ValueError("SYNC_WEBHOOK_SECRET must be a Standard Webhooks secret (whsec_...)")
        return self


def load_settings() -> Settings:
    """Read the environment, or print one readable line and exit with status 2."""
    return Settings.load("connections-api")
