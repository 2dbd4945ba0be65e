"""The subscriber: decode with the contracts parser, hand over to the group commit, then ack."""

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
from status_consumer.metrics import MESSAGES

log = structlog.get_logger(__name__)
# The raw delivery being handled. A context variable set by the middleware instead of FastStream's
# `Context()` injection, which resolves in a worker thread: a thread hop per message.
CURRENT_DELIVERY: ContextVar[AbstractIncomingMessage] = ContextVar("current_delivery")


async def decode_status(message: StreamMessage[Any]) -> StatusMessage:
    """FastStream decoder: the body through `contracts.parse_status_message` (raises if invalid)."""
    return parse_status_message(message.body)


def dead_letter_middleware(dead: DeadLetters) -> type[BaseMiddleware]:
    """Broker middleware: exposes the delivery to the handler; dead-letters undecodable ones."""

    class DeadLetterInvalid(BaseMiddleware):
        async def on_receive(self) -> None:
            if isinstance(self.msg, AbstractIncomingMessage):
                CURRENT_DELIVERY.set(self.msg)

        async def after_processed(
            self,
            exc_type: type[BaseException] | None = None,
            exc_val: BaseException | None = None,
            exc_tb: TracebackType | None = None,
        ) -> bool | None:
            if not isinstance(exc_val, InvalidStatusMessage) or not isinstance(
                self.msg, AbstractIncomingMessage
            ):
                return None
            MESSAGES.labels(type="invalid", outcome="dead_lettered").inc()
            await dead.dead_letter(self.msg, str(exc_val), "invalid_message")
            return True

    return DeadLetterInvalid
