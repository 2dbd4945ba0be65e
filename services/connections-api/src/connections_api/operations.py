"""What the data-source routes do (DESIGN.md §5 and the state rules), one function per action."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID, uuid4

import sqlalchemy as sa
import structlog
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from connections_api.errors import (
    CannotEnable,
    InvalidInput,
    NoActiveRun,
    NotFound,
    NotVerified,
    SyncInProgress,
    SyncServiceUnavailable,
    UnsupportedType,
    VerificationInProgress,
)
from connections_api.schemas import ConnectionPatch, VerifyRequest
from connections_api.state import AppState
from connections_api.uow import Unit
from connections_api.validation import (
    settings_input,
    valid_config,
    valid_credentials,
    valid_settings,
)
from connections_api.webhooks import DeliveryError
from contracts import (
    TICKET_SYNC_TYPES,
    ConnectionStatus,
    DataSourceType,
    ErrorCode,
    LastSyncStatus,
    Principal,
    SyncTicketsSettings,
    SyncTicketsWebhook,
    VerifyCredentialsWebhook,
    credentials_model_for,
)
from store import outbox
from store.connections import get_connection, update_connection
from store.runs import active_run, create_run, end_run
from store.tables import DataSourceConnection, IngestionRun

M = TypeVar("M", bound=BaseModel)
UNDELIVERABLE = "Could not reach the sync service; try again"
_URL_KEYS = ("base_url", "instance_url")

log = structlog.get_logger(__name__)


async def load(
    session: AsyncSession, principal: Principal, connection_id: UUID, *, lock: bool = False
) -> DataSourceConnection:
    """The caller's tenant's connection, or 404 (another tenant's id is simply not found)."""
    row = await get_connection(session, principal.tenant_id, connection_id, for_update=lock)
    if row is None:
        raise NotFound("No such data source")
    return row


def _exists(row: DataSourceConnection | None) -> DataSourceConnection:
    if row is None:  # deleted under us: as good as never there
        raise NotFound("No such data source")
    return row


def scope_settings(row: DataSourceConnection) -> dict[str, Any]:
    """The stored import scope as `sync_tickets` settings keys (non-empty lists only)."""
    config = row.config if isinstance(row.config, dict) else {}
    keys = ("project_keys", "assignment_group_ids")
    return {k: list(config[k]) for k in keys if isinstance(config.get(k), list) and config[k]}


def _refuse_busy(row: DataSourceConnection) -> None:
    if row.status == ConnectionStatus.SYNCING:
        raise SyncInProgress("Cancel or wait for the ticket import first")
    if row.status == ConnectionStatus.VERIFYING:
        raise VerificationInProgress("Wait for the verification result first")


async def verify(
    state: AppState, unit: Unit, principal: Principal, connection_id: UUID, body: VerifyRequest
) -> DataSourceConnection:
    """Store settings, mark verifying, send the credentials once; 502 if undeliverable."""
    row = await load(unit.session, principal, connection_id)
    kind = DataSourceType(row.type)
    credentials_model = credentials_model_for(kind)
    if credentials_model is None:
        raise UnsupportedType(f"Connections of type {kind.value} cannot be verified here")
    settings = await valid_settings(state, kind, settings_input(kind, body.settings))
    credentials = valid_credentials(credentials_model, body.credentials, settings)
    row = await load(unit.session, principal, connection_id, lock=True)
    if row.status == ConnectionStatus.SYNCING:
        raise SyncInProgress("Cancel or wait for the ticket import first")
    # A new id per verification: a result naming an older one is stale (the consumer ignores
    # it), so the newest request decides even when an older answer arrives last.
    verification_id = uuid4()
    changed = await update_connection(
        unit.session,
        principal.tenant_id,
        connection_id,
        {
            "settings": settings,
            "status": ConnectionStatus.VERIFYING.value,
            "verification_id": verification_id,
            "verification_started_at": sa.func.now(),
            "updated_by": principal.sub,
        },
    )
    changed = _exists(changed)
    unit.connection_changed(changed)
    await unit.commit()
    webhook = VerifyCredentialsWebhook.model_validate(
        {
            "tenant_id": principal.tenant_id,
            "user_id": principal.sub,
            "user_email": principal.email,
            "connection_id": connection_id,
            "connection_type": kind,
            "credentials": credentials,
            "settings": settings,
            "verification_id": verification_id,
        }
    )
    try:
        await state.sender.send_verify(
            webhook,
            attempts=state.settings.verify_webhook_attempts,
            max_seconds=state.settings.verify_webhook_max_seconds,
        )
    except Exception as exc:
        # Whatever stopped the webhook (undeliverable, or a failure of our own), the connection
        # must not stay `verifying`: nothing else would ever move it back.
        if not isinstance(exc, DeliveryError):
            log.error("verify_webhook_failed", error_type=type(exc).__name__)
        back = await update_connection(
            unit.session,
            principal.tenant_id,
            connection_id,
            {
                "status": ConnectionStatus.IDLE.value,
                "last_verification_at": sa.func.now(),
                "last_verification_error": UNDELIVERABLE,
                "last_verification_error_code": ErrorCode.UNREACHABLE.value,
            },
            only_status=[ConnectionStatus.VERIFYING.value],
            only_verification=verification_id,
        )
        if back is not None:
            unit.connection_changed(back)
        await unit.commit()
        raise SyncServiceUnavailable(UNDELIVERABLE) from None
    return changed


async def sync_tickets(
    unit: Unit, principal: Principal, connection_id: UUID, time_range_days: int
) -> IngestionRun:
    """Create a pending run, mark the connection syncing, queue `sync_tickets` (one transaction)."""
    row = await load(unit.session, principal, connection_id, lock=True)
    kind = DataSourceType(row.type)
    if kind not in TICKET_SYNC_TYPES:
        raise UnsupportedType("Ticket import supports servicenow and jira_itsm connections only")
    if not row.enabled:
        raise NotVerified("Verify the credentials before importing tickets")
    if await active_run(unit.session, principal.tenant_id, connection_id) is not None:
        raise SyncInProgress()
    if row.status == ConnectionStatus.VERIFYING:
        raise VerificationInProgress("Wait for the verification result first")
    try:
        run = await create_run(
            unit.session,
            principal.tenant_id,
            connection_id,
            started_by=principal.sub,
            time_range_days=time_range_days,
        )
    except IntegrityError:
        raise SyncInProgress() from None
    changed = await update_connection(
        unit.session,
        principal.tenant_id,
        connection_id,
        {"status": ConnectionStatus.SYNCING.value, "updated_by": principal.sub},
    )
    changed = _exists(changed)
    # The import scope (config) rides in the settings; an empty config adds nothing (all).
    settings = SyncTicketsSettings.model_validate(
        {**changed.settings, **scope_settings(changed), "time_range_days": time_range_days}
    )
    webhook = SyncTicketsWebhook(
        tenant_id=principal.tenant_id,
        user_id=principal.sub,
        user_email=principal.email,
        connection_id=connection_id,
        connection_type=kind,
        settings=settings,
        ingestion_run_id=run.id,
    )
    await outbox.enqueue(unit.session, webhook)
    unit.outbox_written()
    unit.run_changed(run)
    unit.connection_changed(changed)
    return run


async def cancel_ingestion(unit: Unit, principal: Principal, connection_id: UUID) -> IngestionRun:
    """End the active run as cancelled, connection idle, queue `cancel_ingestion`."""
    await load(unit.session, principal, connection_id)
    # Run first, then connection: the order in which the consumer, the reaper and the relay
    # lock them when a run ends. The other order deadlocks with a run ending at the same time.
    run = await active_run(unit.session, principal.tenant_id, connection_id, for_update=True)
    row = await load(unit.session, principal, connection_id, lock=True)
    ended = None
    if run is not None:
        ended = await end_run(
            unit.session,
            principal.tenant_id,
            run.id,
            LastSyncStatus.CANCELLED,
            error_code=ErrorCode.CANCELLED_BY_USER,
        )
    if ended is None:
        raise NoActiveRun("There is no ticket import to cancel")
    cancelled, connection = ended
    await queue_cancel(
        unit, cancelled, connection or row, user_id=principal.sub, user_email=principal.email
    )
    unit.run_changed(cancelled)
    if connection is not None:
        unit.connection_changed(connection)
    return cancelled


async def queue_cancel(
    unit: Unit,
    run: IngestionRun,
    connection: DataSourceConnection,
    *,
    user_id: str,
    user_email: str | None = None,
) -> None:
    """Queue `cancel_ingestion` for an ended run (outbox, same transaction as the change)."""
    await outbox.enqueue_cancel(
        unit.session, run, connection, user_id=user_id, user_email=user_email
    )
    unit.outbox_written()


async def patch(
    state: AppState, unit: Unit, principal: Principal, connection_id: UUID, body: ConnectionPatch
) -> DataSourceConnection:
    """Name, description, merged settings, config; `enabled` may only be turned off."""
    row = await load(unit.session, principal, connection_id, lock=True)
    given = body.model_fields_set
    values: dict[str, Any] = {}
    if "name" in given:
        if body.name is None:
            raise InvalidInput("name may not be null")
        values["name"] = body.name
    if "description" in given:
        values["description"] = body.description
    if "config" in given:
        values["config"] = valid_config(
            DataSourceType(row.type), body.config or {}, row.latest_options
        )
    if "enabled" in given:
        if body.enabled is None or (body.enabled and not row.enabled):
            raise CannotEnable("Verify the credentials to enable this connection")
        values["enabled"] = body.enabled
    if body.settings is not None:
        merged = {**row.settings, **settings_input(DataSourceType(row.type), body.settings)}
        merged = {k: v for k, v in merged.items() if v is not None}
        settings = await valid_settings(state, DataSourceType(row.type), merged)
        if settings != row.settings:
            _refuse_busy(row)
            values["settings"] = settings
            # Stored credentials belong to the old site or account: verify again.
            if credentials_model_for(DataSourceType(row.type)) is not None:
                values["enabled"] = False
    values = {k: v for k, v in values.items() if getattr(row, k) != v}
    if not values:
        return row
    changed = await update_connection(
        unit.session, principal.tenant_id, connection_id, {**values, "updated_by": principal.sub}
    )
    changed = _exists(changed)
    unit.connection_changed(changed)
    return changed
