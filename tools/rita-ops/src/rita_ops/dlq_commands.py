"""`rita-ops dlq`: the status dead-letter queue (`<STATUS_QUEUE>.dlq`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

import typer

from rita_ops.common import DryRunOpt, JsonOpt, TenantOpt, fail_usage, run_command
from rita_ops.config import load_settings
from rita_ops.database import OpsError
from rita_ops.dlq import (
    DEFAULT_SCAN,
    DeadLetter,
    DeadLetterQueue,
    Selection,
    open_dead_letter_queue,
)
from rita_ops.output import emit_object, emit_rows

dlq_app = typer.Typer(
    help="The status dead-letter queue (<STATUS_QUEUE>.dlq).", no_args_is_help=True
)
ScanOpt = Annotated[int, typer.Option("--scan", min=1, help="Read at most this many dead letters.")]


@dlq_app.command("list")
def dlq_list(
    json_out: JsonOpt = False, tenant: TenantOpt = None, scan: ScanOpt = DEFAULT_SCAN
) -> None:
    """Dead letters, oldest first, with why each was set aside (nothing is consumed)."""
    settings = load_settings()

    async def work() -> list[dict[str, Any]]:
        async with open_dead_letter_queue(settings.rabbitmq_url, settings.status_queue) as queue:
            letters = await queue.fetch(
                Selection(tenant_id=(str(tenant) if tenant else None)), scan=scan
            )
            return [letter.summary() for letter in letters]

    rows = run_command(work())
    emit_rows(rows, ["key", "tenant_id", "type", "timestamp", "reason"], as_json=json_out)


@dlq_app.command("show")
def dlq_show(
    key: Annotated[str, typer.Argument(help="The message's key (from `dlq list`).")],
    json_out: JsonOpt = False,
    tenant: TenantOpt = None,
    scan: ScanOpt = DEFAULT_SCAN,
) -> None:
    """One dead letter: the reason, its headers and its body (nothing is consumed)."""
    settings = load_settings()

    async def work() -> dict[str, Any]:
        async with open_dead_letter_queue(settings.rabbitmq_url, settings.status_queue) as queue:
            letters = await queue.fetch(
                Selection(keys=[key], tenant_id=(str(tenant) if tenant else None)), scan=scan
            )
            if not letters:
                raise OpsError(f"no dead letter {key} in {queue.name}")
            return letters[0].detail()

    emit_object(run_command(work()), as_json=json_out)


def _selection(keys: list[str] | None, everything: bool, tenant: UUID | None) -> Selection:
    if not keys and not everything and tenant is None:
        raise fail_usage("name the messages (KEY...), or pass --tenant or --all")
    if keys and everything:
        raise fail_usage("pass either KEY... or --all")
    return Selection(keys=keys or (), tenant_id=(str(tenant) if tenant else None))


KeysArg = Annotated[list[str] | None, typer.Argument(help="Keys from `dlq list`.")]
AllOpt = Annotated[bool, typer.Option("--all", help="Every dead letter (within --tenant).")]


@dlq_app.command("replay")
def dlq_replay(
    keys: KeysArg = None,
    *,
    everything: AllOpt = False,
    tenant: TenantOpt = None,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
    scan: ScanOpt = DEFAULT_SCAN,
) -> None:
    """Put dead letters back on the status queue with their original headers, then remove them."""
    settings = load_settings()
    selection = _selection(keys, everything, tenant)

    async def work() -> list[dict[str, Any]]:
        async with open_dead_letter_queue(settings.rabbitmq_url, settings.status_queue) as queue:
            if not await queue.status_queue_exists():
                raise OpsError(
                    f"{settings.status_queue} does not exist: start status-consumer (it declares "
                    "the queue), then replay; nothing changed"
                )
            return await _settle(queue, selection, queue.replay, scan=scan, dry_run=dry_run)

    rows = run_command(work())
    _report(rows, "replayed onto " + settings.status_queue, dry_run=dry_run, as_json=json_out)


@dlq_app.command("purge")
def dlq_purge(
    keys: KeysArg = None,
    *,
    everything: AllOpt = False,
    tenant: TenantOpt = None,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
    scan: ScanOpt = DEFAULT_SCAN,
) -> None:
    """Delete dead letters for good (after reading them with `dlq show`)."""
    settings = load_settings()
    selection = _selection(keys, everything, tenant)

    async def work() -> list[dict[str, Any]]:
        async with open_dead_letter_queue(settings.rabbitmq_url, settings.status_queue) as queue:
            return await _settle(queue, selection, queue.discard, scan=scan, dry_run=dry_run)

    rows = run_command(work())
    _report(rows, "purged", dry_run=dry_run, as_json=json_out)


async def _settle(
    queue: DeadLetterQueue,
    selection: Selection,
    act: Callable[[DeadLetter], Awaitable[None]],
    *,
    scan: int,
    dry_run: bool,
) -> list[dict[str, Any]]:
    """`act` on each selected letter (none when a named key is missing, or on a dry run)."""
    letters = await queue.fetch(selection, scan=scan)
    found = {letter.key for letter in letters}
    missing = [key for key in selection.keys if key not in found]
    if missing:
        raise OpsError(f"not in {queue.name}: {', '.join(missing)} (nothing changed)")
    if not dry_run:
        for letter in letters:
            await act(letter)
    return [letter.summary() for letter in letters]


def _report(rows: list[dict[str, Any]], verb: str, *, dry_run: bool, as_json: bool) -> None:
    if as_json:
        emit_object({"dry_run": dry_run, "count": len(rows), "messages": rows}, as_json=True)
        return
    emit_rows(rows, ["key", "tenant_id", "type", "reason"], as_json=False)
    prefix = "would be " if dry_run else ""
    typer.echo(f"{len(rows)} message(s) {prefix}{verb}")
