"""Apply itsm-sync's Alembic revisions: `itsm-sync-migrate` and `migrate(url)`.

The revisions ship inside the package (`itsm_sync/migrations`), so this works from a wheel as well
as from the repository; the URL comes from the argument, else `DATABASE_URL`, else
`ITSM_SYNC_DATABASE_URL` (see `migrations/env.py`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.attributes["database_url"] = url
    return config


def migrate(url: str | None = None) -> None:
    """Upgrade to head (call from a thread if an event loop runs: env.py starts its own)."""
    command.upgrade(alembic_config(url), "head")


def main() -> None:
    """`itsm-sync-migrate [URL]`."""
    migrate(sys.argv[1] if len(sys.argv) > 1 else None)


if __name__ == "__main__":
    main()
