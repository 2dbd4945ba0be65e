"""Group commit: handlers add their message to the open batch and wait for that batch to settle."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aio_pika.abc import AbstractIncomingMessage

from contracts import StatusMessage
from status_consumer.metrics import IN_FLIGHT


class ShuttingDown(Exception):
    """The consumer stops before the message was committed: leave it unacknowledged."""


@dataclass(slots=True)
class Item:
    """One delivery in a batch: the parsed message and the delivery to acknowledge."""

    message: StatusMessage
    delivery: AbstractIncomingMessage


class Batch:
    """Messages committed together; `done` resolves once every one of them is settled."""

    __slots__ = ("done", "items", "opened")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.items: list[Item] = []
        # One future per batch, not per message: handlers share it.
        self.done: asyncio.Future[None] = loop.create_future()
        self.opened = loop.time()


Flush = Callable[[list[Item]], Awaitable[None]]


class GroupCommitter:
    """Gathers messages into batches (size or time bound) and flushes them one at a time.

    `flush` commits, publishes and acknowledges (or dead-letters) a batch's messages. Batches are
    flushed strictly one after another, so delivery order holds between batches; while one
    flushes, the next one fills up.
    """

    def __init__(self, flush: Flush, *, max_size: int, max_wait: float) -> None:
        self._flush = flush
        self._max_size = max_size
        self._max_wait = max_wait
        self._batches: deque[Batch] = deque()
        self._wake = asyncio.Event()  # a batch got its first message, or filled up
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the flushing loop."""
        self._task = asyncio.create_task(self._run(), name="group-commit")

    def submit(self, message: StatusMessage, delivery: AbstractIncomingMessage) -> Awaitable[None]:
        """Add `message` to the open batch; await the result to wait until it is settled."""
        if self._task is None or self._task.done():
            raise ShuttingDown("the consumer is stopping")
        if not self._batches or len(self._batches[-1].items) >= self._max_size:
            self._batches.append(Batch(asyncio.get_running_loop()))
        batch = self._batches[-1]
        batch.items.append(Item(message, delivery))
        if len(batch.items) in (1, self._max_size):
            self._wake.set()
        IN_FLIGHT.inc()
        return batch.done

    async def _next(self) -> Batch:
        while not self._batches:
            self._wake.clear()
            await self._wake.wait()
        first = self._batches[0]
        loop = asyncio.get_running_loop()
        # Let a lone, small batch fill up for at most `max_wait` after its first message.
        while len(self._batches) == 1 and len(first.items) < self._max_size:
            remaining = first.opened + self._max_wait - loop.time()
            if remaining <= 0:
                break
            self._wake.clear()
            try:
                async with asyncio.timeout(remaining):
                    await self._wake.wait()
            except TimeoutError:
                break
        return self._batches.popleft()

    async def _run(self) -> None:
        while True:
            batch = await self._next()
            try:
                await self._flush(batch.items)
            except asyncio.CancelledError:
                _settle(batch, ShuttingDown("the consumer is stopping"))
                raise
            except Exception as exc:  # ShuttingDown, or a bug in flush: keep consuming
                _settle(batch, exc)
            else:
                _settle(batch, None)

    async def close(self) -> None:
        """Stop flushing; messages not yet committed stay unacknowledged (RabbitMQ redelivers)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while self._batches:
            _settle(self._batches.popleft(), ShuttingDown("the consumer is stopping"))


def _settle(batch: Batch, exc: BaseException | None) -> None:
    IN_FLIGHT.dec(len(batch.items))
    if batch.done.done():
        return
    if exc is None:
        batch.done.set_result(None)
    else:
        batch.done.set_exception(exc)
        # Retrieved by the waiting handlers; mark it so an empty waiter list logs nothing.
        batch.done.exception()
