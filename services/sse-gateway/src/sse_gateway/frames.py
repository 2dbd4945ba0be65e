"""SSE frames, encoded once per event and shared by every connection that receives it."""

from __future__ import annotations

import json
import re
from typing import Final

from sse_starlette import ServerSentEvent

from contracts import EventName, ReconnectEvent, ResyncEvent
from events import WireEvent

StreamId = tuple[int, int]
ZERO_ID: Final[StreamId] = (0, 0)
_ID_RE: Final = re.compile(r"^\d{1,20}(-\d{1,20})?$")


def parse_stream_id(text: str) -> StreamId:
    """`ms-seq` (or bare `ms`) → comparable tuple; raises ValueError if malformed."""
    text = text.strip()
    if not _ID_RE.match(text):
        raise ValueError("Last-Event-ID must be a Redis stream id like 1700000000000-0")
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def format_stream_id(sid: StreamId) -> str:
    return f"{sid[0]}-{sid[1]}"


class Frame:
    """One data event: its stream id (for ordering and de-duplication) and its SSE bytes."""

    __slots__ = ("id", "payload")

    def __init__(self, sid: StreamId, payload: bytes) -> None:
        self.id = sid
        self.payload = payload

    @classmethod
    def from_event(cls, event: WireEvent) -> Frame:
        # The row's JSON goes out as the publisher serialised it (the REST body's bytes).
        payload = ServerSentEvent(event.data, event=event.event.value, id=event.id).encode()
        return cls(parse_stream_id(event.id), payload)


class Control:
    """A non-data instruction queued to a connection (resume, reconnect)."""

    __slots__ = ("final", "kind", "payload")

    def __init__(self, kind: str, payload: bytes = b"", *, final: bool = False) -> None:
        self.kind = kind
        self.payload = payload
        self.final = final


PING: Final = ServerSentEvent(comment="ping").encode()
# After Redis came back: the connection re-reads its tenant's stream from its cursor.
RESUME: Final = Control("resume")


def retry_hint(retry_ms: int) -> bytes:
    return ServerSentEvent(retry=retry_ms).encode()


def reconnect_frame(reason: str) -> Control:
    """Final frame before the gateway closes a stream; the client reconnects with its id."""
    body = json.dumps(ReconnectEvent(data={"reason": reason}).data)
    payload = ServerSentEvent(body, event=EventName.RECONNECT.value).encode()
    return Control("reconnect", payload, final=True)


def resync_payload(cursor: StreamId) -> bytes:
    """`resync`, carrying the id to resume from so a later reconnect does not resync again."""
    body = json.dumps(ResyncEvent().data)
    return ServerSentEvent(body, event=EventName.RESYNC.value, id=format_stream_id(cursor)).encode()
