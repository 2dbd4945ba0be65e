"""Settings from the environment: the same variable names as the services (DESIGN.md §3)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import EVENTS_KEY_PREFIX, STATUS_QUEUE
from observability import load_settings_or_exit


class Settings(BaseSettings):
    """What rita-ops reads; every server URL has the development default."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = "postgresql+asyncpg://root@127.0.0.1:5432/rita"
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    redis_url: str = "redis://127.0.0.1:6379/0"
    status_queue: str = STATUS_QUEUE
    events_key_prefix: str = EVENTS_KEY_PREFIX
    # `runs list --stuck` default: a run silent for this long (the reaper fails it at
    # STALE_RUN_TIMEOUT, 30 minutes by default).
    rita_ops_stuck_after_seconds: float = Field(default=600, gt=0)
    auth_jwt_secret: SecretStr | None = None
    auth_dev_mode: bool = False


def load_settings() -> Settings:
    """Read the environment, or print one readable line and exit with status 2."""
    return load_settings_or_exit(Settings, "rita-ops")
