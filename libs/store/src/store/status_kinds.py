"""Messages that name the wrong kind of connection: refused before anything is applied.

A knowledge-source `sync` message applies to knowledge sources only, a `ticket_ingestion` to
ticket sources only (DESIGN §4, issue 12 point 8). Such a message can never apply, so the
consumer dead-letters it at once with the reason given here, and it changes nothing: its
`message_id` is not even recorded. A row of another tenant is left to the tenant guard (changes
nothing, logged as `security_tenant_mismatch`), so no other tenant's type leaks into a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import (
    KNOWLEDGE_SOURCE_TYPES,
    TICKET_SYNC_TYPES,
    StatusMessage,
    SyncMessage,
    TicketIngestionMessage,
)
from store import status_sql as q


@dataclass(frozen=True, slots=True)
class Rejected:
    """The message at `index` of the batch can never apply; `reason` is for the dead letter."""

    index: int
    reason: str


async def wrong_kinds(conn: AsyncConnection, messages: Sequence[StatusMessage]) -> list[Rejected]:
    """The messages naming a connection of the wrong kind (two lookups, only when needed)."""
    named = {
        m.connection_id
        for m in messages
        if isinstance(m, SyncMessage)
        or (isinstance(m, TicketIngestionMessage) and m.connection_id is not None)
    }
    if not named:
        return []  # ticket messages without `connection_id`: their run fixes the connection
    types = {
        (r.id, r.tenant_id): r.type
        for r in await conn.execute(q.CONNECTION_TYPES, {"ids": list(named)})
    }
    run_ids = [m.ingestion_run_id for m in messages if isinstance(m, TicketIngestionMessage)]
    owners = {
        (r.id, r.tenant_id): r.connection_id
        for r in await conn.execute(q.RUN_CONNECTIONS, {"ids": run_ids})
    }
    rejected = []
    for index, m in enumerate(messages):
        reason = None
        if isinstance(m, SyncMessage):
            kind = types.get((m.connection_id, m.tenant_id))
            if kind is not None and kind not in KNOWLEDGE_SOURCE_TYPES:
                reason = (
                    f"a knowledge `sync` message names a {kind} connection ({m.connection_id}),"
                    " which is not a knowledge source"
                )
        elif isinstance(m, TicketIngestionMessage) and m.connection_id is not None:
            reason = _ticket_reason(m, types, owners)
        if reason is not None:
            rejected.append(Rejected(index, reason))
    return rejected


def _ticket_reason(
    m: TicketIngestionMessage,
    types: dict[tuple[UUID, UUID], str],
    owners: dict[tuple[UUID, UUID], UUID],
) -> str | None:
    kind = types.get((m.connection_id, m.tenant_id)) if m.connection_id else None
    if kind is not None and kind not in TICKET_SYNC_TYPES:
        return (
            f"a `ticket_ingestion` message names a {kind} connection ({m.connection_id}),"
            " which is not a ticket source"
        )
    owner = owners.get((m.ingestion_run_id, m.tenant_id))
    if owner is not None and owner != m.connection_id:
        return (
            f"a `ticket_ingestion` message names connection {m.connection_id}, but run"
            f" {m.ingestion_run_id} belongs to another connection"
        )
    return None
