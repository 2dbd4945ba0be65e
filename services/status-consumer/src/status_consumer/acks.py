"""Acknowledging deliveries: one `basic.ack(multiple=True)` per committed batch, not per message.

A multiple ack settles every unacknowledged delivery up to its tag on that channel, so it is only
sent for a run of deliveries (in tag order) that are all committed. A delivery that is not
settled yet (in the next batch, being dead-lettered, or left for redelivery at shutdown) ends the
run: what was committed after it is acknowledged once it is settled. Invariant that keeps this
live: every tracked delivery is eventually committed or acked on its own (`ack_one`), unless the
consumer is stopping. Acking one message after another costs a frame, a future and a drain each:
about a tenth of the consumer's CPU per message.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import structlog
from aio_pika.abc import AbstractIncomingMessage
from aiormq.abc import AbstractChannel

log = structlog.get_logger(__name__)


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
