"""Server-Sent Events and their Redis transport.

Per tenant, an event is appended to the capped stream `rita:events:{tenant_id}` (for replay) and
published on the channel of the same name (for live fan-out) in one atomic step, so the stream
entry id is the event id. With a Redis Cluster (`REDIS_CLUSTER=true`) the tenant id is a hash tag,
`rita:events:{<tenant_id>}`, so that a tenant's stream and (sharded) channel live in one slot.
The encodings of an event on the stream and on the channel are `events.wire`'s; both decode to
`PublishedEvent`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from contracts.public import ConnectionPublic, IngestionRunPublic

EVENTS_KEY_PREFIX: Final = "rita:events:"
# Replay window: entries kept per tenant stream (approximate trim). A client further behind
# than this gets `resync` and refetches.
EVENT_STREAM_MAXLEN: Final = 1000


class EventName(StrEnum):
    """SSE `event:` names."""

    DATA_SOURCE_UPDATE = "data_source_update"
    INGESTION_RUN_UPDATE = "ingestion_run_update"
    RESYNC = "resync"
    RECONNECT = "reconnect"


def tenant_events_key(
    tenant_id: UUID | str, prefix: str = EVENTS_KEY_PREFIX, *, cluster: bool = False
) -> str:
    """Stream key and channel name of one tenant's events (hash-tagged in a Redis Cluster)."""
    return f"{prefix}{{{tenant_id}}}" if cluster else f"{prefix}{tenant_id}"


def events_channel_pattern(prefix: str = EVENTS_KEY_PREFIX) -> str:
    """Pattern a gateway subscribes to once for every tenant."""
    return f"{prefix}*"


def tenant_from_key(key: str, prefix: str = EVENTS_KEY_PREFIX) -> str | None:
    """The tenant id part of a stream key or channel name (either form), or None if not one."""
    if not key.startswith(prefix):
        return None
    tenant = key[len(prefix) :]
    if tenant.startswith("{") and tenant.endswith("}"):
        return tenant[1:-1]
    return tenant


class DataSourceUpdateEvent(BaseModel):
    """A connection changed; carries its new public row."""

    event: Literal[EventName.DATA_SOURCE_UPDATE] = EventName.DATA_SOURCE_UPDATE
    data: ConnectionPublic


class IngestionRunUpdateEvent(BaseModel):
    """A run changed; carries its new public row."""

    event: Literal[EventName.INGESTION_RUN_UPDATE] = EventName.INGESTION_RUN_UPDATE
    data: IngestionRunPublic


class ResyncEvent(BaseModel):
    """The requested `Last-Event-ID` is older than the replay window: refetch everything."""

    event: Literal[EventName.RESYNC] = EventName.RESYNC
    data: dict[str, str] = {"reason": "replay window exceeded"}


class ReconnectEvent(BaseModel):
    """The gateway is about to close this connection: reconnect with `Last-Event-ID`."""

    event: Literal[EventName.RECONNECT] = EventName.RECONNECT
    data: dict[str, str] = {"reason": "connection lifetime reached"}


class PublishedEvent(BaseModel):
    """One event read back from Redis (stream entry or channel message), its data parsed."""

    model_config = ConfigDict(frozen=True)

    id: str
    event: EventName
    ts: int  # publish time, milliseconds since the epoch (for delivery latency)
    data: dict[str, Any]
