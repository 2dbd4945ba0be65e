"""`/api/data-sources`: list, seed, read, patch, verify, sync tickets, cancel, runs."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from connections_api import operations
from connections_api.defaults import ensure_default_rows
from connections_api.deps import AdminDep, PrincipalDep, ReadDep, StateDep, UnitDep
from connections_api.errors import PROBLEM_RESPONSE
from connections_api.schemas import ConnectionPatch, SyncTicketsRequest, VerifyRequest
from contracts import (
    ALLOWED_DATA_SOURCE_TYPES,
    ConnectionPublic,
    ConnectionsPublic,
    IngestionRunPublic,
    IngestionRunsPublic,
    SourceCategory,
    types_in_category,
)
from store.connections import list_connections, seed_connections
from store.public import connection_public, run_public
from store.runs import list_runs

router = APIRouter(
    prefix="/api/data-sources",
    tags=["data-sources"],
    responses={401: PROBLEM_RESPONSE, 404: PROBLEM_RESPONSE, 422: PROBLEM_RESPONSE},
)
_mutation: dict[int | str, dict[str, Any]] = {403: PROBLEM_RESPONSE, 409: PROBLEM_RESPONSE}


@router.get("", response_model=ConnectionsPublic)
async def list_data_sources(
    state: StateDep,
    principal: PrincipalDep,
    category: Annotated[SourceCategory | None, Query()] = None,
) -> Response:
    """The tenant's connections of one console list (console order), or all of them.

    The tenant's default rows are created first when missing (any role): the console never seeds.
    """
    types = types_in_category(category) if category else ALLOWED_DATA_SOURCE_TYPES
    await ensure_default_rows(state, principal.tenant_id, principal.sub)
    # The console's hottest read: the one fast path (list_fast_path.py says why and what for).
    page = await state.lister.page_json(principal.tenant_id, types)
    return Response(page, media_type="application/json")


@router.post("/seed", responses={403: PROBLEM_RESPONSE})
async def seed_data_sources(unit: UnitDep, principal: AdminDep) -> ConnectionsPublic:
    """Create the tenant's missing default connections (idempotent); list them all.

    Kept for older consoles: every list read now ensures the default rows itself.
    """
    for row in await seed_connections(unit.session, principal.tenant_id, principal.sub):
        unit.connection_changed(row)
    rows = await list_connections(unit.session, principal.tenant_id)
    return ConnectionsPublic(data=[connection_public(r) for r in rows], count=len(rows))


@router.get("/{connection_id}")
async def get_data_source(
    session: ReadDep, principal: PrincipalDep, connection_id: UUID
) -> ConnectionPublic:
    """One connection."""
    return connection_public(await operations.load(session, principal, connection_id))


@router.patch("/{connection_id}", responses=_mutation)
async def update_data_source(
    state: StateDep, unit: UnitDep, principal: AdminDep, connection_id: UUID, body: ConnectionPatch
) -> ConnectionPublic:
    """Change name, description, settings (merged, re-validated), config; or disable."""
    row = await operations.patch(state, unit, principal, connection_id, body)
    return connection_public(row)


@router.post(
    "/{connection_id}/verify",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**_mutation, 400: PROBLEM_RESPONSE, 502: PROBLEM_RESPONSE},
)
async def verify_data_source(
    state: StateDep, unit: UnitDep, principal: AdminDep, connection_id: UUID, body: VerifyRequest
) -> ConnectionPublic:
    """Store the settings and send the credentials to the sync service to check."""
    row = await operations.verify(state, unit, principal, connection_id, body)
    return connection_public(row)


@router.post(
    "/{connection_id}/sync-tickets",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**_mutation, 400: PROBLEM_RESPONSE},
)
async def sync_tickets(
    unit: UnitDep, principal: AdminDep, connection_id: UUID, body: SyncTicketsRequest
) -> IngestionRunPublic:
    """Start a ticket import (a pending run; the webhook goes through the outbox)."""
    run = await operations.sync_tickets(unit, principal, connection_id, body.time_range_days)
    return run_public(run)


@router.post(
    "/{connection_id}/cancel-ingestion", status_code=status.HTTP_202_ACCEPTED, responses=_mutation
)
async def cancel_ingestion(
    unit: UnitDep, principal: AdminDep, connection_id: UUID
) -> IngestionRunPublic:
    """Cancel the running import."""
    return run_public(await operations.cancel_ingestion(unit, principal, connection_id))


@router.get("/{connection_id}/ingestion-runs")
async def list_ingestion_runs(
    session: ReadDep,
    principal: PrincipalDep,
    connection_id: UUID,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> IngestionRunsPublic:
    """The connection's runs, newest first."""
    await operations.load(session, principal, connection_id)
    rows, count = await list_runs(
        session, principal.tenant_id, connection_id, limit=limit, offset=offset
    )
    return IngestionRunsPublic(data=[run_public(r) for r in rows], count=count)


@router.get("/{connection_id}/ingestion-runs/latest")
async def latest_ingestion_run(
    session: ReadDep, principal: PrincipalDep, connection_id: UUID
) -> IngestionRunPublic | None:
    """The newest run, or null when the connection never imported."""
    await operations.load(session, principal, connection_id)
    rows, _ = await list_runs(session, principal.tenant_id, connection_id, limit=1)
    return run_public(rows[0]) if rows else None
