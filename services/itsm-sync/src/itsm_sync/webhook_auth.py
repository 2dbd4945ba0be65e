"""Authentication of incoming webhooks: the shared `Authorization` value and the signature."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class WebhookRejected(Exception):
    """The webhook is not from Rita (or is too old); `str()` is a reason safe to return."""


class WebhookAuthenticator:
    """Checks `Authorization` (when configured) and the Standard Webhooks signature."""

    def __init__(self, secret: str, authorization: str = "") -> None:
        self._webhook = Webhook(secret)
        self._authorization = authorization.encode()

    def verify(self, body: bytes, headers: Mapping[str, str]) -> str:
        """Return the `webhook-id`, or raise `WebhookRejected`."""
        lowered = {key.lower(): value for key, value in headers.items()}
        if self._authorization:
            given = lowered.get("authorization", "").encode()
            # Constant time, so the shared value cannot be guessed byte by byte.
            if not hmac.compare_digest(given, self._authorization):
                raise WebhookRejected("the Authorization header is missing or wrong")
        try:
            self._webhook.verify(body, lowered, json_parse=False)
        except WebhookVerificationError as exc:
            raise WebhookRejected(f"bad webhook signature: {exc}") from None
        except ValueError:
            # Malformed base64 or signature lists, or a body that is not UTF-8.
            raise WebhookRejected("bad webhook signature: malformed headers or body") from None
        return lowered["webhook-id"]
