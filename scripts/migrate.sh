#!/usr/bin/env bash
# Create the databases if missing, then apply each owner's Alembic migrations
# (Rita's schema: `store-migrate`, the revisions beside the tables in libs/store; itsm-sync's:
# `itsm-sync-migrate`).
set -euo pipefail
: "${DATABASE_URL:=postgresql+asyncpg://root@127.0.0.1:5432/rita}"
: "${ITSM_SYNC_DATABASE_URL:=postgresql+asyncpg://root@127.0.0.1:5432/itsm_sync}"
export DATABASE_URL ITSM_SYNC_DATABASE_URL

create_db() { # sqlalchemy url
  uv run python - "$1" <<'PY'
import asyncio, sys
from urllib.parse import urlsplit, urlunsplit
import asyncpg

url = urlsplit(sys.argv[1])
name = url.path.lstrip("/")
admin = urlunsplit(url._replace(scheme="postgresql", path="/postgres"))

async def main() -> None:
    conn = await asyncpg.connect(admin)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
            print(f"migrate: created database {name}")
    finally:
        await conn.close()

asyncio.run(main())
PY
}

uv run store-migrate --create-database upgrade head
# itsm-sync's own database, by its own command (the revisions ship inside its package).
create_db "$ITSM_SYNC_DATABASE_URL"
uv run itsm-sync-migrate "$ITSM_SYNC_DATABASE_URL"
