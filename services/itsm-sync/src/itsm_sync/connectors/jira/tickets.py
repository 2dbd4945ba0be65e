"""Jira issue JSON → a `Ticket` (only the allow-listed fields are kept)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from itsm_sync.connectors.base import Ticket
from itsm_sync.connectors.jira.client import TICKET_FIELDS


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


def issue_ticket(issue: dict[str, Any]) -> Ticket | None:
    """The ticket of one issue, or None if it lacks an id or key (counted as failed)."""
    issue_id, key = issue.get("id"), issue.get("key")
    fields = issue.get("fields")
    if not issue_id or not key or not isinstance(fields, dict):
        return None
    summary = fields.get("summary")
    return Ticket(
        external_id=str(issue_id)[:64],
        ticket_key=str(key)[:64],
        scope=_name(fields.get("project"), "key"),
        summary=summary if isinstance(summary, str) else None,
        status=_name(fields.get("status")),
        ticket_type=_name(fields.get("issuetype")),
        priority=_name(fields.get("priority")),
        source_created=_when(fields.get("created")),
        source_updated=_when(fields.get("updated")),
        fields={name: fields[name] for name in TICKET_FIELDS if name in fields},
    )
