"""Settings read from the environment (DESIGN.md §3), plus itsm-sync's own tunables."""

from __future__ import annotations

import base64
import binascii

from pydantic import Field, SecretStr, field_validator, model_validator

from contracts import STATUS_QUEUE, PrivateHostsSettings
from servicekit import KIB, ServiceSettings

DEFAULT_DATABASE_URL = "postgresql+asyncpg://root@127.0.0.1:5432/itsm_sync"


class Settings(ServiceSettings, PrivateHostsSettings):
    """itsm-sync configuration (the project's conventions: `servicekit.ServiceSettings`)."""

    port: int = 8003
    # A webhook carries at most a verification's settings and credentials: 1 MiB is ample.
    max_body_bytes: int = Field(default=1024 * KIB, ge=1)
    itsm_sync_database_url: str = DEFAULT_DATABASE_URL
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    status_queue: str = STATUS_QUEUE
    # Required while signatures are required; beside Rita's API (which signs nothing) optional.
    sync_webhook_secret: SecretStr = SecretStr("")
    sync_webhook_auth: SecretStr = SecretStr("")
    # false: a webhook is authenticated by `Authorization` alone (as Rita's API sends them);
    # a signature that is present is still checked when a secret is set.
    sync_webhook_require_signature: bool = True
    itsm_sync_encryption_key: SecretStr
    # Runs of one tenant that may page through their ITSM system at once (the others wait).
    itsm_sync_max_runs_per_tenant: int = Field(default=2, ge=1)
    # A `running` message at least this often while a run waits (backoff), so gaps stay < 1 s.
    itsm_sync_progress_interval: float = Field(default=0.5, gt=0)
    itsm_sync_page_size: int = Field(default=100, ge=1, le=5000)
    itsm_sync_http_timeout: float = Field(default=30.0, gt=0)
    # Bounded retries: transient 5xx / network errors, and 429 answers (which say when to retry).
    itsm_sync_max_retries: int = Field(default=5, ge=0)
    itsm_sync_max_rate_limit_retries: int = Field(default=30, ge=0)
    itsm_sync_max_backoff: float = Field(default=30.0, gt=0)
    # Seconds that in-flight work may take to finish at shutdown before it is cancelled.
    itsm_sync_shutdown_grace: float = Field(default=10.0, ge=0)

    @field_validator("itsm_sync_encryption_key")
    @classmethod
    def _key_is_32_bytes(cls, value: SecretStr) -> SecretStr:
        try:
            raw = base64.b64decode(value.get_secret_value(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be base64") from None
        if len(raw) != 32:
            raise ValueError("must be the base64 of exactly 32 bytes")
        return value

    @model_validator(mode="after")
    def _webhooks_are_authenticated(self) -> Settings:
        # Whatever the mode, some secret must stand between the network and the webhook route.
        if self.sync_webhook_require_signature:
            if not self.sync_webhook_secret.get_secret_value().strip():
                raise ValueError("SYNC_WEBHOOK_SECRET is required")
        elif not self.sync_webhook_auth.get_secret_value().strip():
            raise ValueError(
                "SYNC_WEBHOOK_REQUIRE_SIGNATURE=false needs SYNC_WEBHOOK_AUTH "
                "(the Authorization value the caller sends); without it anyone could call"
            )
        return self

    @property
    def encryption_key(self) -> bytes:
        """The AES-256 key."""
        return base64.b64decode(self.itsm_sync_encryption_key.get_secret_value())


def load_settings() -> Settings:
    """Read the environment, or print one readable line and exit with status 2."""
    return Settings.load("itsm-sync")
