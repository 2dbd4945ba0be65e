"""Keyset paging over incidents that change while they are read: nothing lost, nothing twice.

Offset paging (`sysparm_offset`) over a set ordered by `sys_updated_on` both skips and repeats
records when one is updated mid-import: it leaves its place (every later record moves one offset
down, so one is skipped) and reappears at the end (read twice). Here every page instead starts
*after the last record read*, by its key `(sys_updated_on, sys_id)`, in an open-ended range:

    <range>^sys_updated_on>T ^NQ <range>^sys_updated_on=T^sys_id>ID
        ^ORDERBYsys_updated_on^ORDERBYsys_id                                  (limit n)

(`^NQ` ORs two queries; the range, with the import scope, is repeated in both.)

Why nothing is lost: an update sets `sys_updated_on` to the instance's now, which is never before
any stored timestamp, so a record only ever moves *forward* in this order. A record not yet read
lies after the cursor; after an update its key is at least as large, so it still lies after the
cursor and a later page reads it. The import ends when a page comes back short, i.e. nothing lies
after the cursor any more, so it ends once it has caught up with the updates. (Records created
after the import started may or may not be read: they were not part of the set.)

Why nothing counts twice: a record read and then updated moves forward and is read again, with
its newer values. The ticket is upserted by `sys_id` and the runner counts distinct tickets per
run, so it is stored once, counted once, and ends with its latest values.

The cursor is `{"t": T, "id": ID}` as JSON: the runner stores it with the page, so a run resumes
after the last stored page. Both parts come from the instance and are checked before they go into
a query (an encoded query has no escape for `^`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from itsm_sync.connectors.errors import CursorExpired, NotTheSystem
from itsm_sync.connectors.servicenow.client import INCIDENT_FIELDS, ServiceNowClient
from itsm_sync.connectors.servicenow.tickets import value

ORDER: Final = "ORDERBYsys_updated_on^ORDERBYsys_id"
_TIME: Final = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_SYS_ID: Final = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


@dataclass(frozen=True, order=True)
class Key:
    """A record's place in the import order."""

    updated: str  # as the instance wrote it: fixed width, so text order is time order
    sys_id: str

    def cursor(self) -> str:
        """The stored checkpoint."""
        return json.dumps({"t": self.updated, "id": self.sys_id}, separators=(",", ":"))

    @classmethod
    def parse(cls, cursor: str) -> Key:
        """Read a stored checkpoint; anything else is `CursorExpired` (read from the start)."""
        try:
            raw = json.loads(cursor)
            key = cls(str(raw["t"]), str(raw["id"]))
        except (ValueError, KeyError, TypeError):
            raise CursorExpired("The stored ServiceNow checkpoint cannot be read") from None
        if not key.safe:
            raise CursorExpired("The stored ServiceNow checkpoint cannot be read")
        return key

    @property
    def safe(self) -> bool:
        """Whether both parts can stand in an encoded query unchanged."""
        return bool(_TIME.match(self.updated) and _SYS_ID.match(self.sys_id))


def key_of(record: dict[str, Any]) -> Key | None:
    """The record's key, or None if it lacks one."""
    updated, sys_id = value(record.get("sys_updated_on")), value(record.get("sys_id"))
    return Key(updated, sys_id) if updated and sys_id else None


@dataclass(frozen=True)
class KeysetPage:
    """Records after the cursor, the cursor after them, and whether the range is exhausted."""

    records: list[dict[str, Any]]
    after: Key | None
    last: bool


class IncidentPager:
    """Pages of one import query, in `(sys_updated_on, sys_id)` order."""

    def __init__(self, client: ServiceNowClient, query: str) -> None:
        self._client = client
        self._query = query

    def _both(self, condition: str) -> str:
        return "^".join(part for part in (self._query, condition) if part)

    def query_after(self, after: Key | None) -> str:
        """The encoded query of the page after `after`."""
        if after is None:
            return self._both(ORDER)
        later = self._both(f"sys_updated_on>{after.updated}")
        same_second = self._both(f"sys_updated_on={after.updated}^sys_id>{after.sys_id}")
        return f"{later}^NQ{same_second}^{ORDER}"

    async def page(self, after: Key | None, size: int) -> KeysetPage:
        """The next page after `after` (None: from the start of the range)."""
        query = self.query_after(after)
        records = (await self._client.table("incident", query, INCIDENT_FIELDS, size)).records
        keys = [key_of(record) for record in records]
        if any(key is None or not key.safe for key in keys):
            # Without a usable key the next page cannot start after this one.
            raise NotTheSystem(
                f"{self._client.instance} answered incidents without a usable "
                "sys_updated_on or sys_id; they cannot be paged"
            )
        moved = max((key for key in keys if key is not None), default=after)
        return KeysetPage(records, moved, last=len(records) < size)
