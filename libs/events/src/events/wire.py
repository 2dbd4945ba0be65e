"""The two Redis encodings of one event, and their decoders.

Stream entry (replay): fields `event`, `ts` (publish time, ms), `data` (JSON of the public row); the
entry id is the event id. Channel message (live): `PublishedEvent` JSON with that same id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from contracts import EventName, PublishedEvent


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def decode_stream_entry(entry_id: object, fields: Mapping[Any, Any] | None) -> PublishedEvent:
    """One `XRANGE`/`XREAD` entry (as redis-py returns it) → the event it carries."""
    values = {_text(k): _text(v) for k, v in (fields or {}).items()}
    return PublishedEvent(
        id=_text(entry_id),
        event=EventName(values["event"]),
        ts=int(values["ts"]),
        data=json.loads(values["data"]),
    )


def decode_channel_message(payload: bytes | str) -> PublishedEvent:
    """One pub/sub message body → the event it carries."""
    return PublishedEvent.model_validate_json(payload)
