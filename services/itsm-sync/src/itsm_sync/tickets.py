"""Jira issue JSON → a `tickets` row (only the allow-listed fields are kept)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from itsm_sync.jira.client import TICKET_FIELDS


def _name(value: Any, key: str = "name") -> str | None:
    if isinstance(value, dict):
        found = value.get(key)
        return str(found)[:255] if found is not None else None
    return None


def _when(value: Any) -> datetime | None:
    # Jira writes `2026-01-31T10:00:00.000+0000`; Python 3.11 reads that form directly.
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def ticket_row(
    issue: dict[str, Any], tenant_id: uuid.UUID, connection_id: uuid.UUID, run_id: uuid.UUID
) -> dict[str, Any] | None:
    """The row to upsert, or None if the issue lacks an id or key (counted as failed)."""
    issue_id, key = issue.get("id"), issue.get("key")
    fields = issue.get("fields")
    if not issue_id or not key or not isinstance(fields, dict):
        return None
    summary = fields.get("summary")
    return {
        "tenant_id": tenant_id,
        "connection_id": connection_id,
        "jira_issue_id": str(issue_id)[:64],
        "issue_key": str(key)[:64],
        "project_key": _name(fields.get("project"), "key"),
        "summary": summary if isinstance(summary, str) else None,
        "status": _name(fields.get("status")),
        "issue_type": _name(fields.get("issuetype")),
        "priority": _name(fields.get("priority")),
        "jira_created": _when(fields.get("created")),
        "jira_updated": _when(fields.get("updated")),
        "fields": {name: fields[name] for name in TICKET_FIELDS if name in fields},
        "ingestion_run_id": run_id,
    }


def ticket_rows(
    issues: Iterable[dict[str, Any]],
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    run_id: uuid.UUID,
) -> tuple[list[dict[str, Any]], int]:
    """Rows of one page, de-duplicated by issue id, and the number of issues that failed."""
    rows: dict[str, dict[str, Any]] = {}
    failed = 0
    for issue in issues:
        row = ticket_row(issue, tenant_id, connection_id, run_id)
        if row is None:
            failed += 1
        else:
            rows[row["jira_issue_id"]] = row
    return list(rows.values()), failed
