"""The three tables served, their columns, and how a column renders (value / display value)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["string", "integer", "boolean", "datetime", "choice", "reference"]


@dataclass(frozen=True)
class Column:
    """One column: its kind, and the referenced table or the choice labels when relevant."""

    name: str
    kind: Kind = "string"
    reference: str = ""
    choices: tuple[tuple[str, str], ...] = ()

    def label(self, raw: str) -> str:
        """The display value of a choice (the raw value when unknown)."""
        return dict(self.choices).get(raw, raw)


INCIDENT_STATES = (
    ("1", "New"),
    ("2", "In Progress"),
    ("3", "On Hold"),
    ("6", "Resolved"),
    ("7", "Closed"),
    ("8", "Canceled"),
)
PRIORITIES = (
    ("1", "1 - Critical"),
    ("2", "2 - High"),
    ("3", "3 - Moderate"),
    ("4", "4 - Low"),
    ("5", "5 - Planning"),
)
LEVELS = (("1", "1 - High"), ("2", "2 - Medium"), ("3", "3 - Low"))
CATEGORIES = (
    ("inquiry", "Inquiry / Help"),
    ("software", "Software"),
    ("hardware", "Hardware"),
    ("network", "Network"),
    ("database", "Database"),
)

_SYSTEM = (
    Column("sys_created_on", "datetime"),
    Column("sys_created_by"),
    Column("sys_updated_on", "datetime"),
    Column("sys_updated_by"),
    Column("sys_mod_count", "integer"),
)
TABLES: dict[str, tuple[Column, ...]] = {
    "sys_user": (
        Column("sys_id"),
        Column("user_name"),
        Column("name"),
        Column("first_name"),
        Column("last_name"),
        Column("email"),
        Column("title"),
        Column("active", "boolean"),
        *_SYSTEM,
    ),
    "sys_user_group": (
        Column("sys_id"),
        Column("name"),
        Column("description"),
        Column("email"),
        Column("manager", "reference", reference="sys_user"),
        Column("active", "boolean"),
        *_SYSTEM,
    ),
    "incident": (
        Column("sys_id"),
        Column("number"),
        Column("short_description"),
        Column("description"),
        Column("state", "choice", choices=INCIDENT_STATES),
        Column("priority", "choice", choices=PRIORITIES),
        Column("impact", "choice", choices=LEVELS),
        Column("urgency", "choice", choices=LEVELS),
        Column("category", "choice", choices=CATEGORIES),
        Column("active", "boolean"),
        Column("assignment_group", "reference", reference="sys_user_group"),
        Column("assigned_to", "reference", reference="sys_user"),
        Column("caller_id", "reference", reference="sys_user"),
        Column("opened_at", "datetime"),
        Column("resolved_at", "datetime"),
        Column("closed_at", "datetime"),
        *_SYSTEM,
    ),
}
COLUMNS: dict[str, dict[str, Column]] = {
    table: {column.name: column for column in columns} for table, columns in TABLES.items()
}
# The field a reference shows as its display value.
DISPLAY_FIELD = {"sys_user": "name", "sys_user_group": "name", "incident": "number"}
