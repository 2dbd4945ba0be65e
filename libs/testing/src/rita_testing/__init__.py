"""Pytest fixtures over the real PostgreSQL, RabbitMQ and Redis servers (loaded as a plugin)."""

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
    "ServerUnavailable",
    "asyncpg_dsn",
    "with_database",
]
