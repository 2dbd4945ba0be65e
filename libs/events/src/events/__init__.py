"""Publishing state changes to Redis (API and consumer) and reading them back (gateway)."""

from events.publisher import EventPublisher, JsonText, OutgoingEvent
from events.wire import decode_channel_message, decode_stream_entry

__all__ = [
    "EventPublisher",
    "JsonText",
    "OutgoingEvent",
    "decode_channel_message",
    "decode_stream_entry",
]
