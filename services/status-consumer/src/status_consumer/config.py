"""Settings read from the environment (DESIGN.md §3), plus the consumer's batch knobs.

`servicekit.ServiceSettings` gives the project's conventions: a field's name is its variable's
name, no prefix, `HOST`/`PORT`/`LOG_*` shared; a bad value stops start-up with one line.
"""

from __future__ import annotations

from pydantic import Field

from contracts import EVENTS_KEY_PREFIX, STATUS_QUEUE
from servicekit import ServiceSettings


class Settings(ServiceSettings):
    """status-consumer configuration; field names are the environment variable names."""

    database_url: str = "postgresql+asyncpg://root@127.0.0.1:5432/rita"
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # A Redis Cluster: hash-tagged per-tenant keys and sharded pub/sub (DESIGN §9).
    redis_cluster: bool = False
    status_queue: str = STATUS_QUEUE
    events_key_prefix: str = EVENTS_KEY_PREFIX
    port: int = Field(default=8002, ge=0, le=65535)
    # Group commit: at most this many messages per transaction, gathered for at most this long.
    batch_max_size: int = Field(default=300, ge=1, le=5000)
    batch_max_wait_ms: float = Field(default=10.0, ge=0)
    # Unacknowledged messages RabbitMQ hands us at once; must exceed the batch size to overlap
    # gathering the next batch with committing this one.
    prefetch_count: int = Field(default=600, ge=1, le=65535)
    # Deliveries of a message whose handling fails (not an outage) before it is dead-lettered.
    max_attempts: int = Field(default=5, ge=1)
    # Longest pause between retries while PostgreSQL or Redis is unreachable: a dependency that
    # returns is noticed within a second (issue 12: clients right within 5 s of Redis's return).
    retry_max_backoff: float = Field(default=1.0, gt=0)
    # Seconds the in-flight batch may take to finish at shutdown.
    graceful_timeout: float = Field(default=15.0, gt=0)
    receipts_retention_days: int = Field(default=7, ge=1)
    # Database connections: one batch holds one at a time; the rest serve `/readyz`, the pruner
    # and a retry while a dropped connection is being replaced.
    database_pool_size: int = Field(default=4, ge=1)
    database_max_overflow: int = Field(default=4, ge=0)


def load_settings() -> Settings:
    """Read the environment, or print one readable line and exit with status 2."""
    return Settings.load("status-consumer")
