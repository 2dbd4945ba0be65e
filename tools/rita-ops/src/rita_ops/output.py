"""Printing results: `--json` for scripts, an aligned table for people. Never a secret."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import typer


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def to_json(value: Any) -> str:
    """Stable JSON for scripts (sorted keys, ISO timestamps, UUIDs as text)."""
    return json.dumps(value, default=_plain, sort_keys=True, indent=2)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    text = str(_plain(value))
    return text if len(text) <= 60 else text[:57] + "..."


def emit_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, as_json: bool) -> None:
    """A list of records: JSON array, or a table of `columns` (``(none)`` when empty)."""
    if as_json:
        typer.echo(to_json(list(rows)))
        return
    if not rows:
        typer.echo("(none)")
        return
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(column), *(len(r[i]) for r in cells)) for i, column in enumerate(columns)]
    typer.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row_cells in cells:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row_cells, widths, strict=True)).rstrip())


def emit_object(value: Mapping[str, Any], *, as_json: bool) -> None:
    """One record: JSON object, or `key: value` lines (nested values as compact JSON)."""
    if as_json:
        typer.echo(to_json(dict(value)))
        return
    width = max((len(key) for key in value), default=0)
    for key, item in value.items():
        if isinstance(item, dict | list):
            shown = json.dumps(item, default=_plain)
        else:
            shown = "-" if item is None else str(_plain(item))
        typer.echo(f"{key.ljust(width)}  {shown}")
