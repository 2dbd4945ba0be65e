"""Atomic append-and-publish of per-tenant events.

A Lua script appends to the tenant's capped stream and publishes on its channel in one step, so
the stream entry id *is* the event id that live subscribers see: a gateway can replay from the
stream after any id it delivered without a gap or a duplicate. Call it only after the database
transaction that made the change has committed.
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
        """Publish events in order, pipelined; returns their ids."""
        if not items:
            return []
        now_ms = int(time.time() * 1000)
        async with self._redis.pipeline(transaction=False) as pipe:
            for item in items:
                keys, args = self._args(item, now_ms)
                await self._script(keys=keys, args=args, client=pipe)
            results = await pipe.execute()
        return [r.decode() if isinstance(r, bytes) else str(r) for r in results]
