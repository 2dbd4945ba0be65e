"""The two Redis encodings of one event, and their readers.

Stream entry (replay): fields `event`, `ts` (publish time, ms), `tp` (the W3C `traceparent` of
the change, or empty) and `data` (the public row's JSON object, as the publisher serialised it);
the entry id is the event id.

Channel message (live): `<id> <event> <ts> <tp> <data>`, the same values joined by single spaces
(`-` for no traceparent). The publisher's Lua script only joins them, with the id it has just
received from `XADD`: the JSON is built once, in Python, and only the last field (the JSON) can
contain a space.

`read_*` return a `WireEvent` whose `data` is that JSON text unchanged, so the gateway can
forward the exact bytes the API or the consumer serialised; `decode_*` parse it into a
`contracts.PublishedEvent` for readers that want the object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts import EventName, PublishedEvent


@dataclass(frozen=True, slots=True)
class WireEvent:
    """One event as it travels: `data` is the public row's JSON text, byte for byte."""

    id: str
    event: EventName
    ts: int
    traceparent: str | None
    data: str

    def decoded(self) -> PublishedEvent:
        """The event with its data parsed."""
        return PublishedEvent(id=self.id, event=self.event, ts=self.ts, data=json.loads(self.data))


def text(value: object) -> str:
    """A Redis reply's value as text (redis-py returns bytes unless it decodes responses)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def channel_message(event_id: str, event: str, ts: int, traceparent: str | None, data: str) -> str:
    """The live encoding (what the Lua script publishes), for tests of the format."""
    return f"{event_id} {event} {ts} {traceparent or '-'} {data}"


def read_stream_entry(entry_id: object, fields: Mapping[Any, Any] | None) -> WireEvent:
    """One `XRANGE`/`XREAD` entry (as redis-py returns it); `ValueError` if it is not an event."""
    values = {text(k): text(v) for k, v in (fields or {}).items()}
    try:
        event, ts, data = EventName(values["event"]), int(values["ts"]), values["data"]
    except KeyError as exc:
        raise ValueError(f"stream entry lacks the {exc.args[0]} field") from None
    return WireEvent(text(entry_id), event, ts, values.get("tp") or None, data)


def read_channel_message(payload: bytes | str) -> WireEvent:
    """One pub/sub message body; `ValueError` if it is not an event."""
    parts = text(payload).split(" ", 4)
    if len(parts) != 5:
        raise ValueError("channel message is not '<id> <event> <ts> <tp> <data>'")
    event_id, event, ts, traceparent, data = parts
    tp = None if traceparent == "-" else traceparent
    return WireEvent(event_id, EventName(event), int(ts), tp, data)


def decode_stream_entry(entry_id: object, fields: Mapping[Any, Any] | None) -> PublishedEvent:
    """One stream entry → the event it carries, data parsed."""
    return read_stream_entry(entry_id, fields).decoded()


def decode_channel_message(payload: bytes | str) -> PublishedEvent:
    """One pub/sub message body → the event it carries, data parsed."""
    return read_channel_message(payload).decoded()
