"""Fixtures of the system-level suites (chaos, tracing): processes over a test's own state."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from itsm_sync.migrate import migrate as migrate_itsm_sync
from rita_testing.stack import Stack, stack_secrets


@pytest.fixture
def system_database(database_factory: Callable[..., str], rita_template_url: str) -> str:
    """A fresh Rita database at the head revision, for this test alone (a copy of the migrated
    template, not a migration per test)."""
    return database_factory("system", rita_template_url)


@pytest.fixture
def sync_database(database_factory: Callable[[str], str]) -> str:
    """A fresh itsm-sync database at its head revision, for this test alone."""
    url = database_factory("itsm_sync")
    migrate_itsm_sync(url)
    return url


@pytest.fixture
def stack_factory(
    system_database: str,
    sync_database: str,
    rabbitmq_url: str,
    redis_url: str,
    queue_name: str,
    redis_prefix: str,
) -> Iterator[Callable[..., Stack]]:
    """`factory(**env)`: a Stack over this test's own databases, queue and Redis prefix."""
    made: list[Stack] = []

    def factory(**overrides: str) -> Stack:
        env = {
            **stack_secrets(),
            "LOG_FORMAT": "json",
            "DATABASE_URL": system_database,
            "ITSM_SYNC_DATABASE_URL": sync_database,
            "RABBITMQ_URL": rabbitmq_url,
            "REDIS_URL": redis_url,
            "STATUS_QUEUE": queue_name,
            "EVENTS_KEY_PREFIX": redis_prefix,
            "AUTH_DEV_MODE": "true",
            "OUTBOX_POLL_INTERVAL": "0.2",
            **overrides,
        }
        stack = Stack(env=env)
        made.append(stack)
        return stack

    yield factory
    for stack in made:
        stack.close()
