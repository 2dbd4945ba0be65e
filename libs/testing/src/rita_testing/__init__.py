"""Pytest fixtures over the real PostgreSQL, RabbitMQ and Redis servers (loaded as a plugin),
and the shared test helpers `free_port`, `eventually` and `ManualClock`."""

from rita_testing.helpers import ManualClock, eventually, free_port, lifespan_running
from rita_testing.servers import (
    DEFAULT_DATABASE_URL,
    DEFAULT_RABBITMQ_URL,
    DEFAULT_REDIS_URL,
    ServerUnavailable,
    asyncpg_dsn,
    with_database,
)

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_RABBITMQ_URL",
    "DEFAULT_REDIS_URL",
    "ManualClock",
    "ServerUnavailable",
    "asyncpg_dsn",
    "eventually",
    "free_port",
    "lifespan_running",
    "with_database",
]
