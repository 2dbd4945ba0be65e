"""Group commit: handlers hand their message over and wait for the commit that contains it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from contracts import StatusMessage
from status_consumer.metrics import IN_FLIGHT


class ShuttingDown(Exception):
    """The consumer stops before the message was committed: leave it unacknowledged."""


@dataclass(slots=True)
class Pending:
    """One message waiting for its batch; `done` resolves after the commit (or with the error)."""

    message: StatusMessage
    redelivered: bool
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


Flush = Callable[[list[Pending]], Awaitable[None]]


class GroupCommitter:
    """Gathers submitted messages into batches (size or time bound) and flushes them one at a time.

    Batches are flushed strictly one after another, so delivery order is kept between batches;
    while one commits, the next one fills up.
    """

    def __init__(self, flush: Flush, *, max_size: int, max_wait: float) -> None:
        self._flush = flush
        self._max_size = max_size
        self._max_wait = max_wait
        self._queue: asyncio.Queue[Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the flushing loop."""
        self._task = asyncio.create_task(self._run(), name="group-commit")

    async def submit(self, message: StatusMessage, *, redelivered: bool = False) -> None:
        """Return once `message` is committed (and its events published); raise if it failed."""
        if self._task is None or self._task.done():
            raise ShuttingDown("the consumer is stopping")
        pending = Pending(message, redelivered)
        self._queue.put_nowait(pending)
        IN_FLIGHT.inc()
        try:
            await pending.done
        finally:
            IN_FLIGHT.dec()

    async def _gather(self) -> list[Pending]:
        batch = [await self._queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_wait
        while len(batch) < self._max_size:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except asyncio.QueueEmpty:
                pass
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), remaining))
            except TimeoutError:
                break
        return batch

    async def _run(self) -> None:
        while True:
            batch = await self._gather()
            try:
                await self._flush(batch)
            except asyncio.CancelledError:
                _fail(batch, ShuttingDown("the consumer is stopping"))
                raise
            except Exception as exc:  # a bug in flush: fail the batch, keep consuming
                _fail(batch, exc)

    async def close(self) -> None:
        """Stop flushing; messages not yet committed stay unacknowledged (RabbitMQ redelivers)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while not self._queue.empty():
            _fail([self._queue.get_nowait()], ShuttingDown("the consumer is stopping"))


def _fail(batch: list[Pending], exc: BaseException) -> None:
    for p in batch:
        if not p.done.done():
            p.done.set_exception(exc)
