"""Atomic append-and-publish of per-tenant events.

A Lua script appends to the tenant's capped stream and publishes on its channel in one step, so
the stream entry id *is* the event id that live subscribers see: a gateway can replay from the
stream after any id it delivered without a gap or a duplicate. Call it only after the database
transaction that made the change has committed.

`publish_many` runs one script call per chunk of events rather than one per event: the same
steps in the same order, for a third of the client's CPU per event and one round trip per chunk.
(A chunk names several tenants' keys, which needs a single Redis rather than a Redis Cluster, as
deployed: DESIGN.md §3.)
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

from pydantic import BaseModel
from redis.asyncio import Redis

from contracts import EVENT_STREAM_MAXLEN, EVENTS_KEY_PREFIX, EventName, tenant_events_key

# KEYS[1] stream key = channel name; ARGV: maxlen, event name, ts (ms), data (JSON object text).
_APPEND_AND_PUBLISH: Final = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
                      'event', ARGV[2], 'ts', ARGV[3], 'data', ARGV[4])
redis.call('PUBLISH', KEYS[1],
           '{"id":"' .. id .. '","event":"' .. ARGV[2] .. '","ts":' .. ARGV[3] ..
           ',"data":' .. ARGV[4] .. '}')
return id
"""


# The same steps for a chunk of events. KEYS[i] = the i-th event's key; ARGV: maxlen, ts (ms), then
# event name and data for each event in turn. Returns the ids in order.
_APPEND_AND_PUBLISH_MANY: Final = """
local ids = {}
for i = 1, #KEYS do
  local event, data = ARGV[2 * i + 1], ARGV[2 * i + 2]
  local id = redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[1], '*',
                        'event', event, 'ts', ARGV[2], 'data', data)
  redis.call('PUBLISH', KEYS[i],
             '{"id":"' .. id .. '","event":"' .. event .. '","ts":' .. ARGV[2] ..
             ',"data":' .. data .. '}')
  ids[i] = id
end
return ids
"""
# Events per script call: bounds how long one call holds Redis (about a millisecond).
_CHUNK: Final = 200


class JsonText(str):
    """A public row already serialised as one JSON object (e.g. built by PostgreSQL): sent as is.

    Saves a parse and a dump per event for a caller that already holds the text; the caller
    vouches that it is a JSON object (the channel message embeds it verbatim).
    """

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class OutgoingEvent:
    """One event for one tenant; `data` is the public row."""

    tenant_id: UUID | str
    event: EventName
    data: BaseModel | Mapping[str, Any] | JsonText

    def data_json(self) -> str:
        if isinstance(self.data, JsonText):
            return str(self.data)
        if isinstance(self.data, BaseModel):
            return self.data.model_dump_json()
        return json.dumps(self.data, separators=(",", ":"), default=str)


class EventPublisher:
    """Publishes events for tenants; `publish_many` sends a whole batch in one round trip."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = EVENTS_KEY_PREFIX,
        maxlen: int = EVENT_STREAM_MAXLEN,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._maxlen = maxlen
        self._script = redis.register_script(_APPEND_AND_PUBLISH)
        self._many_script = redis.register_script(_APPEND_AND_PUBLISH_MANY)

    def _args(self, item: OutgoingEvent, now_ms: int) -> tuple[list[str], list[str | int]]:
        keys = [tenant_events_key(item.tenant_id, self._prefix)]
        return keys, [self._maxlen, item.event.value, now_ms, item.data_json()]

    async def publish(
        self,
        tenant_id: UUID | str,
        event: EventName,
        data: BaseModel | Mapping[str, Any] | JsonText,
    ) -> str:
        """Publish one event; returns its id (the stream entry id)."""
        keys, args = self._args(OutgoingEvent(tenant_id, event, data), int(time.time() * 1000))
        result = await self._script(keys=keys, args=args)
        return result.decode() if isinstance(result, bytes) else str(result)

    async def publish_many(self, items: Sequence[OutgoingEvent]) -> list[str]:
        """Publish events in order, a chunk per script call; returns their ids."""
        ids: list[str] = []
        now_ms = int(time.time() * 1000)
        for start in range(0, len(items), _CHUNK):
            chunk = items[start : start + _CHUNK]
            keys = [tenant_events_key(item.tenant_id, self._prefix) for item in chunk]
            args: list[str | int] = [self._maxlen, now_ms]
            for item in chunk:
                args += (item.event.value, item.data_json())
            results = await self._many_script(keys=keys, args=args)
            ids += [r.decode() if isinstance(r, bytes) else str(r) for r in results]
        return ids
