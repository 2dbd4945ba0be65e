"""Group commit and batch acknowledgements: the consumer's throughput, in one module.

Why this exists instead of FastStream's per-message handling and acks: `bench/consumer.py`
(20,000 messages, README "Performance") measured one transaction and one ack per message at
0.23 to 0.48 of the FastStream floor; with the group commit and one multiple ack per batch the
consumer reaches 0.59 to 1.16 of it (median 0.90). Everything else stays FastStream: the
subscriber, the decoder, the middleware, the ASGI app and its AsyncAPI document.

**Group commit.** Each delivery runs its handler concurrently (aio-pika: one task per delivery,
bounded by the prefetch). The handler adds its message to the open batch of `GroupCommitter`
and awaits the batch's one shared future (one future per batch, not per message). The committer
takes up to `max_size` messages (or what arrived within `max_wait` of the batch's first one) and
flushes them (`applier.BatchApplier.flush`: one transaction, commit, events, acks). Batches are
flushed strictly one after another, so delivery order holds between batches; while one flushes,
the next one fills up. Handlers return only when their batch is settled, so FastStream's
graceful stop waits for it.

**Acks, one per batch** (`DeliveryAcks`, with `AckPolicy.MANUAL`). A committed batch is
acknowledged with one `basic.ack(multiple=True)` up to its last delivery tag instead of one ack
per message (a frame, a future and a drain each: about a tenth of the CPU per message). A
multiple ack settles every unacknowledged delivery up to its tag on that channel, so it is only
sent for a run of deliveries (in tag order) that are all committed. A delivery that is not
settled yet (in the next batch, being dead-lettered, or left for redelivery at shutdown) ends
the run: what was committed after it is acknowledged once it is settled. Invariant that keeps
this live: every tracked delivery is eventually committed or acked on its own (`ack_one`:
dead-lettered or requeued), unless the consumer is stopping. Nothing is ever acknowledged before
the commit that contains it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog
from aio_pika.abc import AbstractIncomingMessage
from aiormq.abc import AbstractChannel

from contracts import StatusMessage
from status_consumer.metrics import IN_FLIGHT

log = structlog.get_logger(__name__)


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
        self._in_flight = 0
        # Read when scraped, not counted by the gauge per message (its lock costs a microsecond).
        IN_FLIGHT.set_function(lambda: self._in_flight)

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
        self._in_flight += 1
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
                self._settle(batch, ShuttingDown("the consumer is stopping"))
                raise
            except Exception as exc:  # ShuttingDown, or a bug in flush: keep consuming
                self._settle(batch, exc)
            else:
                self._settle(batch, None)

    async def close(self) -> None:
        """Stop flushing; messages not yet committed stay unacknowledged (RabbitMQ redelivers)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while self._batches:
            self._settle(self._batches.popleft(), ShuttingDown("the consumer is stopping"))

    def _settle(self, batch: Batch, exc: BaseException | None) -> None:
        self._in_flight -= len(batch.items)
        if batch.done.done():
            return
        if exc is None:
            batch.done.set_result(None)
        else:
            batch.done.set_exception(exc)
            # Retrieved by the waiting handlers; mark it so an empty waiter list logs nothing.
            batch.done.exception()


@dataclass(slots=True)
class _Window:
    """One channel's unacknowledged deliveries (delivery tags restart with each channel)."""

    waiting: dict[int, AbstractIncomingMessage] = field(default_factory=dict)
    committed: set[int] = field(default_factory=set)


class DeliveryAcks:
    """Tracks deliveries from their arrival and acknowledges committed ones in runs."""

    def __init__(self) -> None:
        self._windows: dict[AbstractChannel, _Window] = {}
        # One release at a time, so multiple acks leave in increasing tag order.
        self._lock = asyncio.Lock()

    def track(self, delivery: AbstractIncomingMessage) -> None:
        """Register a delivery as it arrives, before anything after it can be acknowledged."""
        window = self._windows.get(delivery.channel)
        if window is None:
            self._forget_closed()
            window = self._windows[delivery.channel] = _Window()
        if delivery.delivery_tag is not None:
            window.waiting[delivery.delivery_tag] = delivery

    def is_settled(self, delivery: AbstractIncomingMessage) -> bool:
        """Whether the delivery is committed or acknowledged (or its channel is gone)."""
        window = self._windows.get(delivery.channel)
        tag = delivery.delivery_tag
        return window is None or tag not in window.waiting or tag in window.committed

    async def committed(self, deliveries: list[AbstractIncomingMessage]) -> None:
        """These deliveries are committed: acknowledge every settled run of them."""
        for delivery in deliveries:
            window = self._windows.get(delivery.channel)
            if window is not None and delivery.delivery_tag in window.waiting:
                window.committed.add(delivery.delivery_tag)
        await self._release()

    async def ack_one(self, delivery: AbstractIncomingMessage) -> None:
        """Acknowledge one delivery on its own (dead-lettered, requeued), then what it held back."""
        await delivery.ack()
        window = self._windows.get(delivery.channel)
        if window is not None and delivery.delivery_tag is not None:
            window.waiting.pop(delivery.delivery_tag, None)
        await self._release()

    async def _release(self) -> None:
        async with self._lock:
            for channel, window in list(self._windows.items()):
                last: AbstractIncomingMessage | None = None
                for tag in sorted(window.waiting):
                    if tag not in window.committed:
                        break
                    last = window.waiting.pop(tag)
                    window.committed.discard(tag)
                if last is None:
                    continue
                try:
                    await last.ack(multiple=True)
                except (
                    Exception
                ) as exc:  # channel gone: RabbitMQ redelivers, the replay is harmless
                    log.warning("ack_failed", error=type(exc).__name__)
                    self._windows.pop(channel, None)

    def _forget_closed(self) -> None:
        for channel in [c for c in self._windows if c.is_closed]:
            del self._windows[channel]
