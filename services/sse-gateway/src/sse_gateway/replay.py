"""Catch-up from a tenant's capped stream: replay what a client missed, or tell it to resync.

The rules, with `last` the client's Last-Event-ID and the stream's XINFO:
- no `last` (a first connect): the gateway reads the stream's tail with `current_tail` *before*
  it subscribes and resumes from there, so an event published between the subscription and
  this read is replayed rather than taken for one already sent;
- the stream was trimmed (`entries-added > length`) and its first entry is after `last`, or an
  entry after `last` was deleted (`max-deleted-entry-id > last`): `resync`, cursor = tail (the
  client refetches, which covers everything up to now). A client exactly at the window's edge
  may get a resync it did not need: harmless, and the only safe reading of a trimmed stream;
- the stream is missing, starts after `last` without ever being trimmed, or ends before `last`:
  the stream was reset (Redis restarted without its data): `resync`, then every entry of the
  new stream (all of them are newer than what the client saw);
- otherwise: every entry after `last` (exclusive), oldest first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from redis.exceptions import RedisClusterException, RedisError, ResponseError

from events import EventsRedis, read_stream_entry
from events.wire import text
from sse_gateway import metrics
from sse_gateway.frames import ZERO_ID, Frame, StreamId, format_stream_id, parse_stream_id

# What an unreachable Redis (or cluster, or a shard that does not confirm in time) raises.
REDIS_DOWN: Final = (RedisError, RedisClusterException, OSError, TimeoutError)

_PAGE: Final = 500


@dataclass(slots=True)
class CatchUp:
    """What to send before live events: an optional resync, then frames; and the new cursor."""

    cursor: StreamId
    resync: bool = False
    resync_id: StreamId = ZERO_ID  # id of the `resync` event: where a reconnect resumes
    frames: list[Frame] = field(default_factory=list)


def _sid(value: object) -> StreamId:
    return parse_stream_id(text(value))


async def _stream_info(redis: EventsRedis, key: str) -> dict[str, Any] | None:
    try:
        info: dict[str, Any] = await redis.xinfo_stream(key)
    except ResponseError as exc:
        if "no such key" in str(exc).lower():
            return None
        raise
    return info


async def _entries_after(redis: EventsRedis, key: str, after: StreamId) -> list[Frame]:
    frames: list[Frame] = []
    start = after
    while True:
        page = await redis.xrange(key, min=f"({format_stream_id(start)}", count=_PAGE) or []
        frames.extend(Frame.from_event(read_stream_entry(eid, f)) for eid, f in page)
        if len(page) < _PAGE:
            return frames
        start = frames[-1].id


async def current_tail(redis: EventsRedis, key: str) -> StreamId:
    """The stream's last id now (`0-0` when there is no stream yet)."""
    info = await _stream_info(redis, key)
    return _sid(info["last-generated-id"]) if info else ZERO_ID


async def catch_up(redis: EventsRedis, key: str, last: StreamId | None) -> CatchUp:
    """Decide and fetch the catch-up for a client whose last seen id is `last`."""
    info = await _stream_info(redis, key)
    tail = _sid(info["last-generated-id"]) if info else ZERO_ID
    if last is None:
        return CatchUp(cursor=tail)
    if info is None:
        return _counted(CatchUp(cursor=ZERO_ID, resync=last != ZERO_ID))
    max_deleted = _sid(info.get("max-deleted-entry-id") or "0-0")
    first_entry = info.get("first-entry")
    first = _sid(first_entry[0]) if first_entry else tail
    trimmed = int(info.get("entries-added") or 0) > int(info.get("length") or 0)
    if max_deleted > last or (trimmed and first > last):
        return _counted(CatchUp(cursor=tail, resync=True, resync_id=tail))
    reset = last != ZERO_ID and (last > tail or first > last)
    start = ZERO_ID if reset else last
    frames = await _entries_after(redis, key, start)
    return _counted(CatchUp(cursor=frames[-1].id if frames else start, resync=reset, frames=frames))


def _counted(result: CatchUp) -> CatchUp:
    metrics.REPLAYS.inc()
    metrics.REPLAYED_EVENTS.inc(len(result.frames))
    if result.resync:
        metrics.RESYNCS.inc()
    return result
