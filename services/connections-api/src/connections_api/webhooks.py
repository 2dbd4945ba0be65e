"""Signed webhooks to the sync service (Standard Webhooks headers plus `Authorization`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from standardwebhooks import Webhook
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from connections_api.dialect import Dialect, translate
from connections_api.metrics import WEBHOOK_DELIVERIES
from contracts import VerifyCredentialsWebhook
from store.outbox import new_webhook_id

log = structlog.get_logger()
RETRYABLE_STATUS = frozenset({408, 429})


class DeliveryError(Exception):
    """One attempt failed; `retryable` says whether another attempt may succeed."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class RetryableDelivery(DeliveryError):
    """A 5xx, 408, 429 or network error."""


@dataclass(frozen=True)
class WebhookTarget:
    """Where and how to send."""

    url: str
    secret: str
    authorization: str
    timeout: float
    dialect: Dialect = Dialect.STANDARD


class WebhookSender:
    """Sends one signed POST; `send_verify` adds bounded retries (tenacity)."""

    def __init__(self, client: httpx.AsyncClient, target: WebhookTarget) -> None:
        self._client = client
        self._target = target
        self._signer = Webhook(target.secret)

    def _headers(self, webhook_id: str, body: str) -> dict[str, str]:
        now = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self._signer.sign(webhook_id, now, body),
        }
        if self._target.authorization:
            headers["authorization"] = self._target.authorization
        return headers

    def encode(self, payload: dict[str, Any]) -> bytes:
        """The exact body for a standard `payload`, in the configured dialect."""
        body = translate(payload, self._target.dialect)
        return json.dumps(body, separators=(",", ":")).encode()

    async def post(self, webhook_id: str, body: bytes) -> None:
        """One attempt; raises `DeliveryError` (retryable or not) unless the receiver says 2xx."""
        headers = self._headers(webhook_id, body.decode())
        try:
            response = await self._client.post(
                self._target.url, content=body, headers=headers, timeout=self._target.timeout
            )
        except httpx.HTTPError as exc:
            raise RetryableDelivery(
                f"network error: {type(exc).__name__}", retryable=True
            ) from None
        if response.is_success:
            return
        reason = f"sync service answered {response.status_code}"
        if response.status_code >= 500 or response.status_code in RETRYABLE_STATUS:
            raise RetryableDelivery(reason, retryable=True)
        raise DeliveryError(reason, retryable=False)

    async def send_verify(
        self, webhook: VerifyCredentialsWebhook, *, attempts: int, max_seconds: float
    ) -> None:
        """Deliver `verify_credentials` now (it carries credentials: never in the outbox)."""
        body = self.encode(webhook.wire_payload())
        webhook_id = new_webhook_id()
        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts) | stop_after_delay(max_seconds),
            wait=wait_exponential_jitter(multiplier=0.2, max=2.0),
            retry=retry_if_exception_type(RetryableDelivery),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self.post(webhook_id, body)
        except DeliveryError as exc:
            WEBHOOK_DELIVERIES.labels(action=webhook.action, outcome="failed").inc()
            log.warning(
                "webhook_undeliverable",
                action=webhook.action,
                connection_id=str(webhook.connection_id),
                reason=exc.reason,
            )
            raise
        WEBHOOK_DELIVERIES.labels(action=webhook.action, outcome="delivered").inc()
        log.info(
            "webhook_delivered", action=webhook.action, connection_id=str(webhook.connection_id)
        )
