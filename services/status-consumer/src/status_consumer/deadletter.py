"""The dead-letter queue and bounded attempts.

A message that cannot be parsed goes straight to `<queue>.dlq`. A message whose handling fails
(not an outage) is republished to the back of the main queue with an attempt-count header, up to
`max_attempts` deliveries, then dead-lettered. Both publish with publisher confirms *before*
acknowledging the original, so a crash in between duplicates a message (harmless) and never loses
one. The body is kept byte for byte; the reason travels in `contracts.DEAD_LETTER_REASON_HEADER`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aio_pika.abc import AbstractIncomingMessage
from faststream.rabbit import RabbitBroker, RabbitQueue

from contracts import (
    ATTEMPT_HEADER,
    DEAD_LETTER_REASON_HEADER,
    SOURCE_QUEUE_HEADER,
    dead_letter_queue,
)
from status_consumer.metrics import DEAD_LETTERED, REQUEUED

log = structlog.get_logger(__name__)


def attempt_of(headers: dict[str, Any] | None) -> int:
    """How many times this message has been handled before (0 for a first delivery)."""
    value = (headers or {}).get(ATTEMPT_HEADER, 0)
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0


class DeadLetters:
    """Publishes to the dead-letter queue or back to the main queue, then acknowledges."""

    def __init__(
        self,
        broker: RabbitBroker,
        queue: str,
        *,
        max_attempts: int,
        ack: Callable[[AbstractIncomingMessage], Awaitable[None]],
    ) -> None:
        self._broker = broker
        self._ack = ack  # `DeliveryAcks.ack_one`: the ack tracker must see every ack
        self.queue = queue
        self.dlq = RabbitQueue(dead_letter_queue(queue), durable=True)
        self._max_attempts = max_attempts

    async def declare(self) -> None:
        """Declare the dead-letter queue (durable, no arguments)."""
        await self._broker.declare_queue(self.dlq)

    async def _republish(
        self, raw: AbstractIncomingMessage, queue: str, headers: dict[str, Any]
    ) -> None:
        await self._broker.publish(
            raw.body,
            queue=queue,
            headers=headers,
            persist=True,
            content_type=raw.content_type,
            content_encoding=raw.content_encoding,
            message_id=raw.message_id,
            correlation_id=raw.correlation_id,
            timestamp=raw.timestamp,
        )

    async def dead_letter(self, raw: AbstractIncomingMessage, reason: str, kind: str) -> None:
        """Move `raw` to the dead-letter queue with `reason`, then acknowledge it."""
        headers = {
            **(raw.headers or {}),
            DEAD_LETTER_REASON_HEADER: reason[:1000],
            SOURCE_QUEUE_HEADER: self.queue,
        }
        await self._republish(raw, self.dlq.name, headers)
        await self._ack(raw)
        DEAD_LETTERED.labels(reason=kind).inc()
        log.warning("message_dead_lettered", kind=kind, reason=reason[:300], queue=self.dlq.name)

    async def failed(self, raw: AbstractIncomingMessage, reason: str) -> None:
        """Handling failed: try again later, or dead-letter after the last attempt."""
        attempt = attempt_of(raw.headers) + 1
        if attempt >= self._max_attempts:
            await self.dead_letter(raw, f"failed {attempt} times: {reason}", "handler_failed")
            return
        headers = {**(raw.headers or {}), ATTEMPT_HEADER: attempt}
        await self._republish(raw, self.queue, headers)
        await self._ack(raw)
        REQUEUED.inc()
        log.warning("message_requeued", attempt=attempt, reason=reason[:300])
