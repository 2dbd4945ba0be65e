"""The reaper: ends what the sync service left unanswered.

- Runs silent for STALE_RUN_TIMEOUT fail with `timeout`, and `cancel_ingestion` is queued
  through the outbox (as a user's cancel does) so the sync service stops a run Rita gave up on.
- Verifications with no result after VERIFY_TIMEOUT end `idle` with `verification_timeout`,
  so a connection is never stuck `verifying` (sync and PATCH would answer 409 for ever).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog

from connections_api.metrics import ACTIVE_RUNS
from connections_api.operations import queue_cancel
from connections_api.state import AppState
from connections_api.uow import Unit
from contracts import ConnectionStatus, ErrorCode, LastSyncStatus
from store.connections import stale_verification_ids, update_connection
from store.runs import count_active_runs, end_run, stale_run_ids

log = structlog.get_logger()
REAPER_USER = "rita-reaper"  # `user_id` of the webhooks the reaper queues


def _duration(seconds: float) -> str:
    if seconds >= 120:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds)} seconds"


async def reap_runs(state: AppState, unit: Unit) -> int:
    """Fail every stale active run (rows locked with SKIP LOCKED) and queue its cancel."""
    timeout = state.settings.stale_run_timeout
    cutoff = datetime.now(UTC) - timedelta(seconds=timeout)
    reaped = 0
    for tenant_id, run_id in await stale_run_ids(unit.session, cutoff):
        changed = await end_run(
            unit.session,
            tenant_id,
            run_id,
            LastSyncStatus.FAILED,
            error_message=f"No progress from the sync service for {_duration(timeout)}",
            error_detail={"error_code": ErrorCode.TIMEOUT.value},
            error_code=ErrorCode.TIMEOUT,
        )
        if changed is None:
            continue
        run, connection = changed
        unit.run_changed(run)
        if connection is not None:
            unit.connection_changed(connection)
            await queue_cancel(unit, run, connection, user_id=run.started_by or REAPER_USER)
        reaped += 1
        log.warning("run_timed_out", tenant_id=str(tenant_id), run_id=str(run_id))
    return reaped


async def reap_verifications(state: AppState, unit: Unit) -> int:
    """End every verification unanswered for VERIFY_TIMEOUT: idle, readable error and code."""
    timeout = state.settings.verify_timeout
    cutoff = datetime.now(UTC) - timedelta(seconds=timeout)
    reaped = 0
    for tenant_id, connection_id, verification_id in await stale_verification_ids(
        unit.session, cutoff
    ):
        changed = await update_connection(
            unit.session,
            tenant_id,
            connection_id,
            {
                "status": ConnectionStatus.IDLE.value,
                "last_verification_at": sa.func.now(),
                "last_verification_error": (
                    f"The sync service did not answer within {_duration(timeout)}; verify again"
                ),
                "last_verification_error_code": ErrorCode.VERIFICATION_TIMEOUT.value,
            },
            only_status=[ConnectionStatus.VERIFYING.value],
        )
        if changed is None:
            continue
        unit.connection_changed(changed)
        reaped += 1
        log.warning(
            "verification_timed_out",
            tenant_id=str(tenant_id),
            connection_id=str(connection_id),
            verification_id=str(verification_id) if verification_id else None,
        )
    return reaped


async def reap_once(state: AppState) -> int:
    """One pass over runs and verifications, in one transaction; returns how many it ended."""
    async with state.sessions() as session:
        unit = Unit(session, state)
        reaped = await reap_runs(state, unit)
        reaped += await reap_verifications(state, unit)
        ACTIVE_RUNS.set(await count_active_runs(session))
        await unit.commit()
    return reaped


def reap_interval(state: AppState) -> float:
    """REAPER_INTERVAL, shortened so that a verification ends soon after VERIFY_TIMEOUT."""
    return min(state.settings.reaper_interval, state.settings.verify_timeout / 4)


async def reap_forever(state: AppState) -> None:
    """Reap every `reap_interval` seconds until cancelled."""
    while True:
        try:
            await reap_once(state)
        except Exception as exc:  # try again next interval
            log.error("reaper_error", error_type=type(exc).__name__)
        await asyncio.sleep(reap_interval(state))
