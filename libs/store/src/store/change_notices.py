"""What PostgreSQL says when a tenant's connections change (triggers of migration 0003).

Each committed INSERT, UPDATE or DELETE on `data_source_connections` sends a NOTIFY on
`CONNECTIONS_CHANGED_CHANNEL` whose payload is the tenant's id; TRUNCATE sends `EVERY_TENANT`;
listeners send `PROBE_PREFIX` notices of their own.
"""

from __future__ import annotations

from typing import Final
from uuid import UUID

CONNECTIONS_CHANGED_CHANNEL: Final = "data_source_connections_changed"
EVERY_TENANT: Final = "*"
# A listener's own probe (`probe:<token>`), sent to prove notices arrive; it names no tenant.
PROBE_PREFIX: Final = "probe:"


def changed_tenant(payload: str) -> UUID | None:
    """The tenant a notice names, or None when it means every tenant (or cannot be read)."""
    if payload == EVERY_TENANT:
        return None
    try:
        return UUID(payload)
    except ValueError:
        return None  # unreadable: forgetting everything is the safe reading
