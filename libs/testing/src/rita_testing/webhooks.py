"""Sign a webhook body as connections-api does (Standard Webhooks + `Authorization`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook


def signed_headers(
    body: bytes,
    secret: str,
    *,
    authorization: str = "",
    webhook_id: str | None = None,
    when: datetime | None = None,
) -> dict[str, str]:
    """The headers Rita's API sends with `body`."""
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
