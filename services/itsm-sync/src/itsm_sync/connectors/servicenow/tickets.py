"""ServiceNow incident JSON → a `Ticket` (only the allow-listed fields are kept)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from itsm_sync.connectors.base import Ticket
from itsm_sync.connectors.servicenow.client import INCIDENT_FIELDS
from itsm_sync.connectors.servicenow.query import TIME_FORMAT

# The incident table's standard choice values (the instance may add its own: kept as given).
STATES: Final = {
    "1": "New",
    "2": "In Progress",
    "3": "On Hold",
    "6": "Resolved",
    "7": "Closed",
    "8": "Canceled",
}
PRIORITIES: Final = {"1": "Critical", "2": "High", "3": "Moderate", "4": "Low", "5": "Planning"}


def value(raw: Any) -> str | None:
    """A field's raw value (a string, or `{"value": …}` when the instance adds display values)."""
    if isinstance(raw, dict):
        raw = raw.get("value")
    if raw is None or raw == "":
        return None
    return str(raw)


def when(raw: Any) -> datetime | None:
    """`2026-01-31 10:00:00` (UTC) → an aware datetime."""
    text = value(raw)
    if text is None:
        return None
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _short(raw: Any, names: dict[str, str] | None = None) -> str | None:
    text = value(raw)
    if text is None:
        return None
    return (names or {}).get(text, text)[:255]


def incident_ticket(record: dict[str, Any]) -> Ticket | None:
    """The ticket of one incident, or None without a sys_id or number (counted as failed)."""
    sys_id, number = value(record.get("sys_id")), value(record.get("number"))
    if not sys_id or not number:
        return None
    return Ticket(
        external_id=sys_id[:64],
        ticket_key=number[:64],
        scope=_short(record.get("assignment_group")),
        summary=value(record.get("short_description")),
        status=_short(record.get("state"), STATES),
        ticket_type=_short(record.get("category")),
        priority=_short(record.get("priority"), PRIORITIES),
        source_created=when(record.get("sys_created_on")),
        source_updated=when(record.get("sys_updated_on")),
        fields={name: record[name] for name in INCIDENT_FIELDS if name in record},
    )
