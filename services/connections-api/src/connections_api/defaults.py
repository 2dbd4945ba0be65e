"""The tenant's default connection rows, ensured by the server on every list read (DESIGN §9).

The console never seeds. The first list read of a tenant in this process runs one idempotent
statement (`INSERT … ON CONFLICT DO NOTHING`, any role); later reads skip it, because the API
never deletes a connection, so a tenant that had its rows once still has them. Without the
memo every list read would pay a write-path round trip on the console's hottest route.
"""

from __future__ import annotations

from uuid import UUID

from connections_api.state import AppState
from connections_api.uow import Unit
from store.connections import seed_connections

# Bounded so that a process serving a great many tenants does not grow without end; forgetting
# a tenant costs one idempotent statement on its next read, nothing else.
_MAX_REMEMBERED = 100_000


async def ensure_default_rows(state: AppState, tenant_id: UUID, actor: str) -> None:
    """Create the tenant's missing default rows (once per process) and publish the new ones."""
    ensured = state.tenants_with_defaults
    if tenant_id in ensured:
        return
    async with state.sessions() as session:
        unit = Unit(session, state)
        for row in await seed_connections(session, tenant_id, actor):
            unit.connection_changed(row)
        await unit.commit()
    if len(ensured) >= _MAX_REMEMBERED:
        ensured.clear()
    ensured.add(tenant_id)
