"""Status messages to RabbitMQ with FastStream: persistent, publisher-confirmed, stamped.

The queue is declared as a plain durable queue without arguments, exactly as the status consumer
expects it, so whichever side starts first creates the same queue.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from faststream.rabbit import RabbitBroker, RabbitQueue
from faststream.rabbit.schemas import Channel

from contracts import TicketIngestionMessage, VerificationMessage
from itsm_sync.metrics import MESSAGES
from observability import rabbit_middlewares

log = structlog.get_logger(__name__)

Message = TypeVar("Message", VerificationMessage, TicketIngestionMessage)


def stamp(message: Message) -> Message:
    """A copy with a fresh `message_id` and the current `timestamp`."""
    return message.model_copy(
        update={"message_id": str(uuid.uuid4()), "timestamp": datetime.now(UTC)}
    )


def wire_body(message: VerificationMessage | TicketIngestionMessage) -> dict[str, Any]:
    """The JSON object published: `type`, counters as JSON numbers, `error_message` on failures.

    A verification's failure text is the contract's `error`; Rita's own consumer reads
    `error_message` on every type, so a failed verification carries the text under both names
    (this project's consumer accepts either).
    """
    body = message.model_dump(mode="json", exclude_none=True)
    if isinstance(message, VerificationMessage) and message.error is not None:
        body["error_message"] = message.error
    return body


class StatusPublisher:
    """Publishes `verification` and `ticket_ingestion` messages to the status queue."""

    def __init__(self, rabbitmq_url: str, queue: str) -> None:
        # Confirms: `publish` returns only once RabbitMQ has the message; an unroutable
        # (mandatory) message raises instead of vanishing.
        self._broker = RabbitBroker(
            rabbitmq_url,
            default_channel=Channel(publisher_confirms=True, on_return_raises=True),
            logger=None,
            # With tracing on: `traceparent` in each message's AMQP headers.
            middlewares=rabbit_middlewares(),
        )
        self._queue = RabbitQueue(queue, durable=True)
        self._publisher = self._broker.publisher(
            self._queue, persist=True, title="status", description="Status messages for Rita"
        )

    async def start(self) -> None:
        """Connect and declare the queue."""
        await self._broker.connect()
        await self._broker.declare_queue(self._queue)

    async def stop(self) -> None:
        """Close the connection."""
        await self._broker.stop()

    async def ping(self) -> bool:
        """Whether the broker connection is up."""
        return await self._broker.ping(timeout=2.0)

    async def publish(self, message: Message) -> Message:
        """Stamp and publish one message; returns what was sent."""
        sent = stamp(message)
        body = wire_body(sent)
        await self._publisher.publish(
            body,
            message_id=sent.message_id,
            timestamp=sent.timestamp,
            persist=True,
        )
        MESSAGES.labels(type=sent.type, status=sent.status).inc()
        log.info(
            "status_published",
            message_type=sent.type,
            status=sent.status,
            tenant_id=str(sent.tenant_id),
            message_id=sent.message_id,
        )
        return sent
