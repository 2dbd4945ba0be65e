"""Authentication of incoming webhooks: the shared `Authorization` value and the signature.

Two modes (`SYNC_WEBHOOK_REQUIRE_SIGNATURE`):

- signature required (the default): `Authorization` (when configured) and a valid Standard
  Webhooks signature, as connections-api sends them;
- signature not required (beside Rita's own API, which signs nothing): `Authorization` alone,
  which must then be configured. A signature that is present is still checked when a secret is
  set (connections-api always signs), so both APIs can share one itsm-sync.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class WebhookRejected(Exception):
    """The webhook is not from Rita (or is too old); `str()` is a reason safe to return."""


@dataclass(frozen=True)
class Authenticated:
    """An accepted request: the id it is de-duplicated by, and whether it carried a signature."""

    webhook_id: str
    signed: bool


def content_id(body: bytes) -> str:
    """The de-duplication id of an unsigned request (it has no `webhook-id` to trust).

    Rita's bodies carry their own `timestamp`, so two different requests never share it, and a
    retried identical request is recognised as the same one.
    """
    return "sha256:" + hashlib.sha256(body).hexdigest()


class WebhookAuthenticator:
    """Checks `Authorization` (when configured) and the Standard Webhooks signature."""

    def __init__(
        self, secret: str, authorization: str = "", *, require_signature: bool = True
    ) -> None:
        if require_signature and not secret:
            raise ValueError("a signing secret is needed while signatures are required")
        if not require_signature and not authorization:
            raise ValueError("an Authorization value is needed when signatures are optional")
        self._webhook = Webhook(secret) if secret else None
        self._authorization = authorization.encode()
        self._require_signature = require_signature

    def authenticate(self, body: bytes, headers: Mapping[str, str]) -> Authenticated:
        """Check the request; raise `WebhookRejected` with a reason that quotes no header."""
        lowered = {key.lower(): value for key, value in headers.items()}
        if self._authorization:
            given = lowered.get("authorization", "").encode()
            # Constant time, so the shared value cannot be guessed byte by byte.
            if not hmac.compare_digest(given, self._authorization):
                raise WebhookRejected("the Authorization header is missing or wrong")
        signed = "webhook-signature" in lowered
        if not signed and not self._require_signature:
            return Authenticated(content_id(body), signed=False)
        if self._webhook is None:
            # Optional signatures without a secret to check them against: Authorization decided.
            return Authenticated(lowered.get("webhook-id") or content_id(body), signed=True)
        try:
            self._webhook.verify(body, lowered, json_parse=False)
        except WebhookVerificationError as exc:
            raise WebhookRejected(f"bad webhook signature: {exc}") from None
        except ValueError:
            # Malformed base64 or signature lists, or a body that is not UTF-8.
            raise WebhookRejected("bad webhook signature: malformed headers or body") from None
        return Authenticated(lowered["webhook-id"], signed=True)
