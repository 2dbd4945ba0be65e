"""The group committer's batching (in-memory doubles): what goes into one flush."""

from __future__ import annotations

import asyncio
from typing import cast

from aio_pika.abc import AbstractIncomingMessage

from contracts import StatusMessage
from status_consumer.group_commit import GroupCommitter, Item

MAX_WAIT = 0.2


def submit(committer: GroupCommitter, name: str) -> asyncio.Future[None]:
    # The committer never looks inside a message or a delivery: names stand in for both.
    done = committer.submit(cast(StatusMessage, name), cast(AbstractIncomingMessage, name))
    return asyncio.ensure_future(done)


async def test_messages_that_arrive_during_a_flush_get_max_wait_after_it_to_gather() -> None:
    flushed: list[list[str]] = []
    release = asyncio.Event()

    async def flush(items: list[Item]) -> None:
        flushed.append([cast(str, i.message) for i in items])
        if len(flushed) == 1:
            await release.wait()

    committer = GroupCommitter(flush, max_size=2, max_wait=MAX_WAIT)
    committer.start()
    try:
        first = [submit(committer, "a"), submit(committer, "b")]  # full: flushed at once
        await asyncio.sleep(0)
        late = submit(committer, "c")  # arrives while the first batch is being flushed
        # The flush outlasts `max_wait` since "c" arrived: counted from its arrival, "c" would
        # go alone the moment the flush ends; counted from the flush's end, "d" can join it.
        await asyncio.sleep(MAX_WAIT * 1.5)
        release.set()
        await asyncio.gather(*first)
        await asyncio.gather(late, submit(committer, "d"))
    finally:
        await committer.close()
    assert flushed == [["a", "b"], ["c", "d"]]
