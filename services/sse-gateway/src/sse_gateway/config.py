"""Settings from the environment (DESIGN.md §3 names plus the gateway's own knobs)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import EVENTS_KEY_PREFIX
from observability import load_settings_or_exit
from rita_auth import events_token_secret


class Settings(BaseSettings):
    """Everything the gateway reads at start; see the README for each knob."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    HOST: str = "0.0.0.0"  # noqa: S104 - a service listens on every interface in containers
    PORT: int = 8001
    REDIS_URL: str = "redis://127.0.0.1:6379/0"
    # A Redis Cluster: per-tenant sharded pub/sub (SSUBSCRIBE) instead of one PSUBSCRIBE.
    REDIS_CLUSTER: bool = False
    EVENTS_KEY_PREFIX: str = EVENTS_KEY_PREFIX
    AUTH_JWT_SECRET: SecretStr | None = None
    EVENTS_TOKEN_SECRET: SecretStr | None = None  # else AUTH_JWT_SECRET signs events tokens
    AUTH_JWKS_URL: str | None = None
    AUTH_ISSUER: str | None = None
    AUTH_AUDIENCE: str | None = None
    LOG_LEVEL: str = "INFO"
    LOG_FORMAT: str = "json"
    GATEWAY_MAX_CONNECTIONS: int = Field(default=10_000, ge=1)
    GATEWAY_MAX_LIFETIME_SECONDS: float = Field(default=900.0, gt=0)
    GATEWAY_LIFETIME_JITTER: float = Field(default=0.1, ge=0, lt=1)
    GATEWAY_HEARTBEAT_SECONDS: float = Field(default=12.0, gt=0, le=15)
    GATEWAY_QUEUE_SIZE: int = Field(default=256, ge=1)
    GATEWAY_RETRY_MS: int = Field(default=3000, ge=0)
    GATEWAY_SEND_TIMEOUT_SECONDS: float = Field(default=30.0, gt=0)
    GATEWAY_SHUTDOWN_GRACE_SECONDS: float = Field(default=10.0, ge=0)
    GATEWAY_GC_FREEZE_SECONDS: float = Field(default=1.0, ge=0)  # 0: no GC policy (gcpolicy.py)
    GATEWAY_GC_FULL_SECONDS: float = Field(default=600.0, gt=0)

    @model_validator(mode="after")
    def _require_auth_keys(self) -> Settings:
        if not self.AUTH_JWT_SECRET and not self.AUTH_JWKS_URL:
            raise ValueError("AUTH_JWT_SECRET is required (or AUTH_JWKS_URL for an OIDC provider)")
        events_token_secret(self.EVENTS_TOKEN_SECRET, self.AUTH_JWT_SECRET)
        return self

    @property
    def events_token_key(self) -> str:
        """The key that verifies `?access_token=` events tokens (see `events_token_secret`)."""
        return events_token_secret(self.EVENTS_TOKEN_SECRET, self.AUTH_JWT_SECRET)


def load_settings() -> Settings:
    """Read the environment, or print one readable line and exit with status 2."""
    return load_settings_or_exit(Settings, "sse-gateway")
