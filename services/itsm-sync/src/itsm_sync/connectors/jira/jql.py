"""The JQL of an import: a time window, optionally some projects, oldest update first."""

from __future__ import annotations

from collections.abc import Sequence


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def import_jql(time_range_days: int, project_keys: Sequence[str] | None = None) -> str:
    """`[project in ("A", "B") AND ]updated >= -Nd ORDER BY updated ASC`."""
    clauses = []
    if project_keys:
        clauses.append(f"project in ({', '.join(_quote(key) for key in project_keys)})")
    clauses.append(f"updated >= -{int(time_range_days)}d")
    # Oldest first: issues updated during the import move to the end instead of being skipped.
    return " AND ".join(clauses) + " ORDER BY updated ASC"
