"""Helpers for tests and benchmarks: migrate a database, sign a webhook as Rita does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from standardwebhooks.webhooks import Webhook

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def migrate(url: str) -> None:
    """Apply itsm-sync's migrations to `url` (from a thread if a loop runs: env.py has its own)."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


def signed_headers(
    body: bytes,
    secret: str,
    *,
    authorization: str = "",
    webhook_id: str | None = None,
    when: datetime | None = None,
) -> dict[str, str]:
    """The headers Rita's API sends with `body` (Standard Webhooks + `Authorization`)."""
    msg_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    moment = when or datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, moment, body.decode()),
    }
    if authorization:
        headers["authorization"] = authorization
    return headers
