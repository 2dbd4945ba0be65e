"""The ack window (in-memory doubles): multiple acks only ever cover settled deliveries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from aio_pika.abc import AbstractIncomingMessage

from status_consumer.group_commit import DeliveryAcks


@dataclass(eq=False)
class FakeChannel:
    is_closed: bool = False
    acks: list[tuple[int, bool]] = field(default_factory=list)


@dataclass(eq=False)
class FakeDelivery:
    channel: FakeChannel
    delivery_tag: int

    async def ack(self, multiple: bool = False) -> None:
        self.channel.acks.append((self.delivery_tag, multiple))


def deliveries(channel: FakeChannel, count: int) -> list[AbstractIncomingMessage]:
    return [
        cast(AbstractIncomingMessage, FakeDelivery(channel, tag)) for tag in range(1, count + 1)
    ]


async def test_a_committed_run_is_acked_once_up_to_its_last_tag() -> None:
    channel, acks = FakeChannel(), DeliveryAcks()
    ds = deliveries(channel, 5)
    for d in ds:
        acks.track(d)
    await acks.committed(ds[:3])
    assert channel.acks == [(3, True)]
    assert [acks.is_settled(d) for d in ds] == [True, True, True, False, False]


async def test_an_unsettled_delivery_holds_back_later_commits_until_it_is_acked() -> None:
    channel, acks = FakeChannel(), DeliveryAcks()
    ds = deliveries(channel, 6)
    for d in ds:
        acks.track(d)
    # Tag 2 is being dead-lettered; 1 and 3..4 commit: only 1 may be covered by a multiple ack.
    await acks.committed([ds[0], ds[2], ds[3]])
    assert channel.acks == [(1, True)]
    await acks.ack_one(ds[1])
    assert channel.acks == [(1, True), (2, False), (4, True)]
    # Tags 5 and 6 were never settled (e.g. left for redelivery at shutdown): never acked.
    assert not acks.is_settled(ds[4])


async def test_out_of_order_commits_and_separate_channels() -> None:
    first, second, acks = FakeChannel(), FakeChannel(), DeliveryAcks()
    a, b = deliveries(first, 3), deliveries(second, 2)
    for d in (*a, *b):
        acks.track(d)
    await acks.committed([a[2], b[1]])
    assert (first.acks, second.acks) == ([], [])
    await acks.committed([a[0], a[1], b[0]])
    assert (first.acks, second.acks) == ([(3, True)], [(2, True)])
