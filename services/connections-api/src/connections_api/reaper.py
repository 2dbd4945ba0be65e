"""The reaper: fails runs that heard nothing from the sync service for STALE_RUN_TIMEOUT."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import structlog

from connections_api.metrics import ACTIVE_RUNS
from connections_api.state import AppState
from connections_api.uow import Unit
from contracts import ErrorCode, LastSyncStatus
from store.runs import count_active_runs, end_run, stale_run_ids

log = structlog.get_logger()


async def reap_once(state: AppState) -> int:
    """Fail every stale active run (rows locked with SKIP LOCKED); returns how many."""
    timeout = state.settings.stale_run_timeout
    minutes = max(1, round(timeout / 60))
    cutoff = datetime.now(UTC) - timedelta(seconds=timeout)
    reaped = 0
    async with state.sessions() as session:
        unit = Unit(session, state)
        for tenant_id, run_id in await stale_run_ids(session, cutoff):
            changed = await end_run(
                session,
                tenant_id,
                run_id,
                LastSyncStatus.FAILED,
                error_message=f"No progress from the sync service for {minutes} minutes",
                error_detail={"error_code": ErrorCode.TIMEOUT.value},
            )
            if changed is None:
                continue
            run, connection = changed
            unit.run_changed(run)
            if connection is not None:
                unit.connection_changed(connection)
            reaped += 1
            log.warning("run_timed_out", tenant_id=str(tenant_id), run_id=str(run_id))
        ACTIVE_RUNS.set(await count_active_runs(session))
        await unit.commit()
    return reaped


async def reap_forever(state: AppState) -> None:
    """Reap every REAPER_INTERVAL seconds until cancelled."""
    while True:
        try:
            await reap_once(state)
        except Exception as exc:  # try again next interval
            log.error("reaper_error", error_type=type(exc).__name__)
        await asyncio.sleep(state.settings.reaper_interval)
