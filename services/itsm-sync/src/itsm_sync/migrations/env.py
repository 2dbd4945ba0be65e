"""Alembic environment: async engine on asyncpg, URL from the environment (never from the ini)."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from itsm_sync.config import DEFAULT_DATABASE_URL
from itsm_sync.db.models import Base


def _database_url() -> str:
    # Tests pass the URL programmatically; scripts/migrate.sh sets DATABASE_URL.
    given = context.config.attributes.get("database_url")
    if isinstance(given, str) and given:
        return given
    return (
        os.environ.get("DATABASE_URL")
        or os.environ.get("ITSM_SYNC_DATABASE_URL")
        or DEFAULT_DATABASE_URL
    )


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(_database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
