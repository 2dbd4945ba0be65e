"""The status dead-letter queue: read without consuming, replay onto the status queue, purge.

RabbitMQ has no "peek": messages are fetched unacknowledged and given back when the channel
closes, which puts them back at their place in the queue (marked redelivered, nothing else
changes). A replay publishes with publisher confirms *before* acknowledging the dead letter, so a
crash in between duplicates a message (the consumer de-duplicates by `message_id`) and never
loses one - the same rule as the consumer's own dead-lettering (status_consumer/deadletter.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractIncomingMessage,
    AbstractQueue,
)

from contracts import (
    ATTEMPT_HEADER,
    DEAD_LETTER_REASON_HEADER,
    SOURCE_QUEUE_HEADER,
    dead_letter_queue,
)

# Headers the consumer adds on its way to the dead-letter queue (status_consumer/deadletter.py):
# a replay removes them, so the message goes back as it first arrived, with all its attempts.
ADDED_HEADERS: Final = frozenset({DEAD_LETTER_REASON_HEADER, ATTEMPT_HEADER, SOURCE_QUEUE_HEADER})
# Upper bound of messages read in one command: a larger queue is handled in several runs.
DEFAULT_SCAN: Final = 10_000


@dataclass(frozen=True)
class DeadLetter:
    """One dead-lettered message as read from the queue."""

    key: str
    message_id: str | None
    tenant_id: str | None
    message_type: str | None
    reason: str | None
    headers: dict[str, Any]
    body: bytes
    timestamp: datetime | None
    content_type: str | None
    raw: AbstractIncomingMessage | None = field(default=None, compare=False, repr=False)

    def summary(self) -> dict[str, Any]:
        """The fields `dlq list` shows."""
        return {
            "key": self.key,
            "message_id": self.message_id,
            "tenant_id": self.tenant_id,
            "type": self.message_type,
            "reason": self.reason,
            "timestamp": self.timestamp,
            "bytes": len(self.body),
        }

    def detail(self) -> dict[str, Any]:
        """The fields `dlq show` prints: the summary, every header and the body."""
        try:
            body: Any = json.loads(self.body)
        except ValueError:
            body = self.body.decode("utf-8", "replace")
        return {**self.summary(), "headers": self.headers, "body": body}


def _parsed_fields(body: bytes) -> tuple[str | None, str | None]:
    """(tenant_id, type) from a status message body, when it is a JSON object."""
    try:
        data = json.loads(body)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    tenant = data.get("tenant_id")
    kind = data.get("type") or data.get("message_type")
    return (str(tenant) if tenant is not None else None, str(kind) if kind is not None else None)


def _headers(raw: AbstractIncomingMessage) -> dict[str, Any]:
    return {
        key: value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        for key, value in (raw.headers or {}).items()
    }


def read_message(raw: AbstractIncomingMessage) -> DeadLetter:
    """A fetched message as a `DeadLetter`; its key is its `message_id`, else a body digest."""
    tenant, kind = _parsed_fields(raw.body)
    headers = _headers(raw)
    reason = headers.get(DEAD_LETTER_REASON_HEADER)
    key = raw.message_id or "sha256:" + hashlib.sha256(raw.body).hexdigest()[:16]
    return DeadLetter(
        key=key,
        message_id=raw.message_id,
        tenant_id=tenant,
        message_type=kind,
        reason=str(reason) if reason is not None else None,
        headers=headers,
        body=raw.body,
        timestamp=raw.timestamp,
        content_type=raw.content_type,
        raw=raw,
    )


@dataclass(frozen=True)
class Selection:
    """Which dead letters a command acts on: by key, by tenant, or all of them."""

    keys: Sequence[str] = ()
    tenant_id: str | None = None

    def matches(self, letter: DeadLetter) -> bool:
        if self.keys and letter.key not in self.keys:
            return False
        return self.tenant_id is None or letter.tenant_id == self.tenant_id


class DeadLetterQueue:
    """One open channel on the dead-letter queue of `status_queue`."""

    def __init__(
        self,
        connection: AbstractConnection,
        channel: AbstractChannel,
        queue: AbstractQueue | None,
        status_queue: str,
    ) -> None:
        self._connection = connection
        self._channel = channel
        self._queue = queue
        self.status_queue = status_queue
        self.name = dead_letter_queue(status_queue)

    async def status_queue_exists(self) -> bool:
        """Whether the status queue is declared (by the consumer): replaying needs it."""
        channel = await self._connection.channel()  # a failed passive declare closes it
        try:
            await channel.declare_queue(self.status_queue, passive=True)
        except aio_pika.exceptions.ChannelNotFoundEntity:
            return False
        await channel.close()
        return True

    async def fetch(self, selection: Selection, *, scan: int = DEFAULT_SCAN) -> list[DeadLetter]:
        """Read up to `scan` messages (unacknowledged) and return those `selection` names."""
        if self._queue is None:
            return []
        chosen: list[DeadLetter] = []
        for _ in range(scan):
            raw = await self._queue.get(no_ack=False, fail=False)
            if raw is None:
                break
            letter = read_message(raw)
            if selection.matches(letter):
                chosen.append(letter)
        return chosen

    async def replay(self, letter: DeadLetter) -> None:
        """Publish `letter` to the status queue as it first arrived (confirmed), then ack it."""
        assert letter.raw is not None  # noqa: S101 - fetched by this queue
        headers = {k: v for k, v in (letter.raw.headers or {}).items() if k not in ADDED_HEADERS}
        message = aio_pika.Message(
            letter.raw.body,
            headers=headers,
            content_type=letter.raw.content_type,
            content_encoding=letter.raw.content_encoding,
            message_id=letter.raw.message_id,
            correlation_id=letter.raw.correlation_id,
            timestamp=letter.raw.timestamp,
            type=letter.raw.type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        # mandatory: a message the broker cannot route raises here instead of vanishing.
        await self._channel.default_exchange.publish(
            message, routing_key=self.status_queue, mandatory=True
        )
        await letter.raw.ack()

    async def discard(self, letter: DeadLetter) -> None:
        """Remove `letter` for good."""
        assert letter.raw is not None  # noqa: S101 - fetched by this queue
        await letter.raw.ack()


@asynccontextmanager
async def open_dead_letter_queue(
    rabbitmq_url: str, status_queue: str
) -> AsyncIterator[DeadLetterQueue]:
    """Connect with publisher confirms; on exit every fetched, unacknowledged message returns."""
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        try:
            queue: AbstractQueue | None = await channel.declare_queue(
                dead_letter_queue(status_queue), passive=True
            )
        except aio_pika.exceptions.ChannelNotFoundEntity:
            # Passive declare closes the channel when the queue does not exist yet.
            channel = await connection.channel(publisher_confirms=True)
            queue = None
        yield DeadLetterQueue(connection, channel, queue, status_queue)
