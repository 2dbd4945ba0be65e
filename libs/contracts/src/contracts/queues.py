"""RabbitMQ names. The queue is durable, on the default exchange, routing key = queue name."""

from __future__ import annotations

from typing import Final

STATUS_QUEUE: Final = "data_source_status"
DEAD_LETTER_SUFFIX: Final = ".dlq"
# Header on a dead-lettered message that says why it was set aside.
DEAD_LETTER_REASON_HEADER: Final = "x-rita-dead-letter-reason"
# Headers the consumer adds on a message it requeues or dead-letters (rita-ops removes them,
# with the reason, when it replays one): the attempts so far, and the queue it came from.
ATTEMPT_HEADER: Final = "x-rita-attempt"
SOURCE_QUEUE_HEADER: Final = "x-rita-source-queue"


def dead_letter_queue(queue: str = STATUS_QUEUE) -> str:
    """The dead-letter queue that belongs to `queue`."""
    return f"{queue}{DEAD_LETTER_SUFFIX}"
