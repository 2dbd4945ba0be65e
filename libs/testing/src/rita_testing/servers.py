"""Finding the three servers: the environment's URLs, else testcontainers, else one clear error."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import socket
import subprocess
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DEFAULT_DATABASE_URL = "postgresql+asyncpg://root@127.0.0.1:5432/rita"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

# Containers started as a fallback live until the test process ends.
_containers: list[Any] = []


class ServerUnavailable(RuntimeError):
    """A server the tests need cannot be reached and no Docker engine can start one."""


def asyncpg_dsn(url: str) -> str:
    """SQLAlchemy URL (`postgresql+asyncpg://`) → libpq/asyncpg DSN (`postgresql://`)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def _tcp_reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def _docker_engine_available() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [docker, "info", "--format", "{{.ServerVersion}}"],
        capture_output=True,
        timeout=10,
        check=False,
    )
    return result.returncode == 0


def _start_container(kind: str) -> str:
    # Imported lazily: testcontainers is only needed where a Docker engine exists.
    if kind == "postgres":
        from testcontainers.postgres import PostgresContainer

        pg = PostgresContainer("postgres:16-alpine", driver="asyncpg")
        pg.start()
        _containers.append(pg)
        return str(pg.get_connection_url())
    if kind == "rabbitmq":
        from testcontainers.rabbitmq import RabbitMqContainer

        rabbit = RabbitMqContainer("rabbitmq:3.13-alpine")
        rabbit.start()
        _containers.append(rabbit)
        host, port = rabbit.get_container_host_ip(), rabbit.get_exposed_port(5672)
        return f"amqp://guest:guest@{host}:{port}/"
    from testcontainers.redis import RedisContainer

    redis = RedisContainer("redis:7-alpine")
    redis.start()
    _containers.append(redis)
    host, port = redis.get_container_host_ip(), redis.get_exposed_port(6379)
    return f"redis://{host}:{port}/0"


def resolve_server(kind: str, env_name: str, default: str, port: int) -> str:
    """The URL to use for one server, or `ServerUnavailable` with a message naming the fix."""
    url = os.environ.get(env_name, default)
    if _tcp_reachable(url, port):
        return url
    if _docker_engine_available():
        return _start_container(kind)
    host = urlsplit(url).hostname
    raise ServerUnavailable(
        f"{kind} is not reachable at {host}:{urlsplit(url).port or port} ({env_name}) and no "
        f"Docker engine is available for a test container; start it (see README, 'Servers') "
        f"or set {env_name}"
    )


def run_async(factory: Callable[[], Any]) -> Any:
    """Run a coroutine to completion from synchronous fixture code.

    Where this thread already runs an event loop (Playwright's sync API keeps one), the coroutine
    runs on a loop of its own in a worker thread instead.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def stop_containers() -> None:
    """Stop every fallback container this process started."""
    while _containers:
        _containers.pop().stop()
