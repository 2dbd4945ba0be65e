"""The delivery path: track each delivery, decode it once with the contracts parser.

The broker runs without FastDepends (`apply_types=False`): the decoder below is the only
validation, and the handler receives its `StatusMessage` as is. FastDepends would build and
validate a call model per message (about a sixth of the consumer's CPU per message) only to
re-check a model the contracts parser has just built. The handler's annotation still gives the
AsyncAPI document its payload schema.
"""

from __future__ import annotations

from contextvars import ContextVar
from types import TracebackType
from typing import Any

import structlog
from aio_pika.abc import AbstractIncomingMessage
from faststream import BaseMiddleware
from faststream.message import StreamMessage

from contracts import InvalidStatusMessage, StatusMessage, parse_status_message
from status_consumer.deadletter import DeadLetters
from status_consumer.group_commit import DeliveryAcks
from status_consumer.metrics import MESSAGES

log = structlog.get_logger(__name__)
# The raw delivery being handled. A context variable set by the middleware instead of FastStream's
# `Context()` injection (which needs FastDepends, and resolves in a worker thread).
CURRENT_DELIVERY: ContextVar[AbstractIncomingMessage] = ContextVar("current_delivery")


async def decode_status(message: StreamMessage[Any]) -> StatusMessage:
    """FastStream decoder: the body through `contracts.parse_status_message` (raises if invalid)."""
    return parse_status_message(message.body)


def delivery_middleware(acks: DeliveryAcks, dead: DeadLetters) -> type[BaseMiddleware]:
    """Broker middleware: tracks and exposes each delivery; dead-letters undecodable ones."""

    class TrackDeliveries(BaseMiddleware):
        async def on_receive(self) -> None:
            if isinstance(self.msg, AbstractIncomingMessage):
                # Before anything can be acknowledged past it (see `acks`).
                acks.track(self.msg)
                CURRENT_DELIVERY.set(self.msg)

        async def after_processed(
            self,
            exc_type: type[BaseException] | None = None,
            exc_val: BaseException | None = None,
            exc_tb: TracebackType | None = None,
        ) -> bool | None:
            raw = self.msg
            if exc_val is None or not isinstance(raw, AbstractIncomingMessage):
                return None
            if isinstance(exc_val, InvalidStatusMessage):
                MESSAGES.labels(type="invalid", outcome="dead_lettered").inc()
                await dead.dead_letter(raw, str(exc_val), "invalid_message")
                return True
            if isinstance(exc_val, Exception) and not acks.is_settled(raw):
                # A bug, not the message's shape: bounded attempts like any failing message, so
                # that it neither stays unacknowledged nor holds back the acks after it.
                await dead.failed(raw, f"{type(exc_val).__name__}: {str(exc_val)[:300]}")
            return None  # FastStream logs the error

    return TrackDeliveries
