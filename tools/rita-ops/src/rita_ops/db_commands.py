"""`rita-ops runs|connections|webhooks`: Rita's database, through libs/store."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import typer
from redis.exceptions import RedisError

from rita_ops import database as db
from rita_ops.common import (
    DryRunOpt,
    JsonOpt,
    LimitOpt,
    TenantOpt,
    fail_usage,
    run_command,
)
from rita_ops.config import load_settings
from rita_ops.output import emit_object, emit_rows

runs_app = typer.Typer(help="Ingestion runs.", no_args_is_help=True)
connections_app = typer.Typer(help="Connections.", no_args_is_help=True)
webhooks_app = typer.Typer(help="The webhook outbox (table webhook_outbox).", no_args_is_help=True)


@runs_app.command("list")
def runs_list(
    *,
    stuck: Annotated[
        bool, typer.Option("--stuck", help="Active runs silent for --older-than seconds.")
    ] = False,
    older_than: Annotated[
        float | None,
        typer.Option(
            "--older-than", min=0, help="Seconds of silence (default RITA_OPS_STUCK_AFTER_SECONDS)."
        ),
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only runs in this status.")
    ] = None,
    tenant: TenantOpt = None,
    limit: LimitOpt = 100,
    json_out: JsonOpt = False,
) -> None:
    """Ingestion runs, newest first; `--stuck`: the active ones that stopped hearing progress."""
    settings = load_settings()
    stuck_after = (
        (older_than if older_than is not None else settings.rita_ops_stuck_after_seconds)
        if stuck
        else None
    )

    async def work() -> list[dict[str, Any]]:
        async with db.sessions(settings) as make, make() as session:
            runs = await db.list_runs(
                session, tenant_id=tenant, stuck_after=stuck_after, status=status, limit=limit
            )
            return [db.run_row(run) for run in runs]

    columns = ["id", "tenant_id", "connection_id", "status", "records_processed", "silent_seconds"]
    emit_rows(run_command(work()), columns, as_json=json_out)


@runs_app.command("fail")
def runs_fail(
    run_id: Annotated[UUID, typer.Argument(help="The ingestion run's id.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Shown to the tenant's admins as the run's error.")
    ] = "no progress from the sync service",
    tenant: TenantOpt = None,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Fail an active run: the run ends `failed`, its connection goes idle, the sync service gets
    `cancel_ingestion`, and open consoles see it (events)."""
    settings = load_settings()

    async def work() -> dict[str, Any]:
        async with db.sessions(settings) as make, make() as session:
            async with session.begin():
                run = await db.find_run(session, run_id, tenant)
                if dry_run:
                    if run.status not in db.ACTIVE:
                        raise db.OpsError(f"run {run.id} already ended ({run.status})")
                    return {"dry_run": True, "run": db.run_row(run)}
                failed, connection = await db.fail_run(session, run, reason)
            # After the commit, as every state change: open consoles see the run end. The change
            # is made either way; without Redis, consoles see it when they next read the API.
            warning = None
            try:
                events = await db.publish_changes(settings, failed, connection)
            except (RedisError, OSError) as exc:
                events = []
                warning = f"events not published ({type(exc).__name__}): consoles see it on reload"
            return {
                "dry_run": False,
                "run": db.run_row(failed),
                "events": events,
                "warning": warning,
            }

    result = run_command(work())
    if result.get("warning"):
        typer.echo(f"warning: {result['warning']}", err=True)
    if json_out:
        emit_object(result, as_json=True)
        return
    emit_object(result["run"], as_json=False)
    typer.echo("would be failed (dry run)" if dry_run else "failed; cancel_ingestion queued")


@connections_app.command("show")
def connections_show(
    connection_id: Annotated[UUID, typer.Argument(help="The connection's id.")],
    tenant: TenantOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """A connection's public row (never a credential), its runs and its outbox rows."""
    settings = load_settings()

    async def work() -> dict[str, Any]:
        async with db.sessions(settings) as make, make() as session:
            row = await db.find_connection(session, connection_id, tenant)
            return await db.connection_report(session, row)

    emit_object(run_command(work()), as_json=json_out)


@webhooks_app.command("list")
def webhooks_list(
    failed: Annotated[bool, typer.Option("--failed", help="Only webhooks that gave up.")] = False,
    pending: Annotated[bool, typer.Option("--pending", help="Only webhooks waiting.")] = False,
    tenant: TenantOpt = None,
    limit: LimitOpt = 100,
    json_out: JsonOpt = False,
) -> None:
    """Outbox rows, oldest first (payloads are not printed)."""
    settings = load_settings()
    if failed and pending:
        raise fail_usage("pass --failed or --pending, not both")
    status = "failed" if failed else "pending" if pending else None

    async def work() -> list[dict[str, Any]]:
        async with db.sessions(settings) as make, make() as session:
            rows = await db.list_webhooks(session, tenant_id=tenant, status=status, limit=limit)
            return [db.webhook_row(row) for row in rows]

    columns = ["id", "tenant_id", "action", "status", "attempts", "last_error"]
    emit_rows(run_command(work()), columns, as_json=json_out)


@webhooks_app.command("retry")
def webhooks_retry(
    webhook: Annotated[
        str, typer.Argument(help="The outbox row's id or its webhook id (msg_...).")
    ],
    tenant: TenantOpt = None,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Send a failed webhook again: back to pending, due now, with a fresh attempt budget."""
    settings = load_settings()

    async def work() -> dict[str, Any]:
        async with db.sessions(settings) as make, make() as session, session.begin():
            row = await db.find_webhook(session, webhook, tenant)
            before = db.webhook_row(row)
            if dry_run:
                if row.status != "failed":
                    raise db.OpsError(f"webhook {row.id} is {row.status}, only failed ones retry")
                return {"dry_run": True, "webhook": before, "warning": None}
            warning = await db.retry_webhook(session, row)
            return {"dry_run": False, "webhook": before, "warning": warning}

    result = run_command(work())
    if json_out:
        emit_object(result, as_json=True)
        return
    emit_object(result["webhook"], as_json=False)
    if result["warning"]:
        typer.echo(f"warning: {result['warning']}", err=True)
    typer.echo("would be retried (dry run)" if dry_run else "queued for the relay")
