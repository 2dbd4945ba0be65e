"""Publishing state changes to Redis (API and consumer) and reading them back (gateway)."""

from events.publisher import (
    RESYNC_AFTER_OUTAGE,
    EventPublisher,
    EventsRedis,
    OutgoingEvent,
)
from events.redis import connect_redis
from events.wire import (
    WireEvent,
    channel_message,
    decode_channel_message,
    decode_stream_entry,
    read_channel_message,
    read_stream_entry,
)

__all__ = [
    "RESYNC_AFTER_OUTAGE",
    "EventPublisher",
    "EventsRedis",
    "OutgoingEvent",
    "WireEvent",
    "channel_message",
    "connect_redis",
    "decode_channel_message",
    "decode_stream_entry",
    "read_channel_message",
    "read_stream_entry",
]
