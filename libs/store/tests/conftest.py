"""Fixtures of the store's tests: an engine on the session's migrated database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


@pytest.fixture
async def engine(rita_database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on rita_testing's `rita_database_url` (migrated to head), disposed after."""
    e = create_async_engine(rita_database_url)
    yield e
    await e.dispose()
