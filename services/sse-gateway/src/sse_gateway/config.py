"""Settings from the environment (DESIGN.md §3 names plus the gateway's own `GATEWAY_*` knobs).

`servicekit.ServiceSettings`: a field is its variable's name in lower case; secrets are
`SecretStr`.
"""

from __future__ import annotations

from pydantic import Field

from contracts import EVENTS_KEY_PREFIX
from rita_auth import AuthSettings
from servicekit import ServiceSettings


class Settings(ServiceSettings, AuthSettings):
    """Everything the gateway reads at start; see the README for each knob (the AUTH_* and
    EVENTS_TOKEN_SECRET fields come from `rita_auth.AuthSettings`)."""

    port: int = 8001
    redis_url: str = "redis://127.0.0.1:6379/0"
    # A Redis Cluster: hash-tagged keys, per-tenant sharded pub/sub (SSUBSCRIBE) instead of one
    # PSUBSCRIBE (listeners.py).
    redis_cluster: bool = False
    events_key_prefix: str = EVENTS_KEY_PREFIX
    gateway_max_connections: int = Field(default=10_000, ge=1)
    gateway_max_lifetime_seconds: float = Field(default=900.0, gt=0)
    gateway_lifetime_jitter: float = Field(default=0.1, ge=0, lt=1)
    gateway_heartbeat_seconds: float = Field(default=12.0, gt=0, le=15)
    gateway_queue_size: int = Field(default=256, ge=1)
    gateway_retry_ms: int = Field(default=3000, ge=0)
    gateway_send_timeout_seconds: float = Field(default=30.0, gt=0)
    gateway_shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    gateway_gc_freeze_seconds: float = Field(default=1.0, ge=0)  # 0: no GC policy (gcpolicy.py)
    gateway_gc_full_seconds: float = Field(default=600.0, gt=0)


def load_settings() -> Settings:
    """Read the environment, or print one readable line and exit with status 2."""
    return Settings.load("sse-gateway")
