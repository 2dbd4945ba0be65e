"""Keyset paging over incidents that change while they are read: nothing lost, nothing twice.

Offset paging (`sysparm_offset`) over a set ordered by `sys_updated_on` both skips and repeats
records when one is updated mid-import: it leaves its place (every later record moves one offset
down, so one is skipped) and reappears at the end (read twice). Here every page instead starts
*after the last record read*, by its key `(sys_updated_on, sys_id)`, in an open-ended range:

    page:  <range>^sys_updated_on>=T^ORDERBYsys_updated_on^ORDERBYsys_id   (limit n)

and the records at or before the cursor `(T, ID)` (those of second T already read) are dropped
on our side, because an encoded query has no tuple comparison.

Why nothing is lost: an update sets `sys_updated_on` to the instance's now, which is never before
any stored timestamp, so a record only ever moves *forward* in this order. A record not yet read
lies after the cursor; after an update its key is at least as large, so it still lies after the
cursor and a later page reads it. The import ends when a page comes back short, i.e. nothing lies
after the cursor any more. (So the import ends once it has caught up with the updates; records
created after it started may or may not be read.)

Why nothing counts twice: a record read and then updated moves forward and is read again, with
its newer values. The ticket is upserted by `sys_id` and the runner counts distinct tickets per
run, so it is stored once, counted once, and ends with its latest values.

A second with more records than a page (bulk updates) would return only records already read;
then that second is walked by `sys_id` (`sys_updated_on=T^sys_id>ID^ORDERBYsys_id`) and the next
page starts strictly after it (`sys_updated_on>T`).

The cursor is `{"t": T, "id": ID}` as JSON: the runner stores it with the page, so a run resumes
after the last stored page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from itsm_sync.connectors.errors import CursorExpired, NotTheSystem
from itsm_sync.connectors.servicenow.client import INCIDENT_FIELDS, ServiceNowClient
from itsm_sync.connectors.servicenow.tickets import value

ORDER: Final = "ORDERBYsys_updated_on^ORDERBYsys_id"


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
            return cls(str(raw["t"]), str(raw["id"]))
        except (ValueError, KeyError, TypeError):
            raise CursorExpired("The stored ServiceNow checkpoint cannot be read") from None


def key_of(record: dict[str, Any]) -> Key | None:
    """The record's key, or None if it lacks one (such a record cannot be paged past)."""
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

    async def _read(self, condition: str, order: str, limit: int) -> list[dict[str, Any]]:
        query = "^".join(part for part in (self._query, condition, order) if part)
        return (await self._client.table("incident", query, INCIDENT_FIELDS, limit)).records

    async def page(self, after: Key | None, size: int) -> KeysetPage:
        """The next page after `after` (None: from the start of the range)."""
        if after is None:
            records = await self._read("", ORDER, size)
            return self._page(records, None, last=len(records) < size)
        records = await self._read(f"sys_updated_on>={after.updated}", ORDER, size)
        fresh = [r for r in records if (key := key_of(r)) is None or key > after]
        if fresh or len(records) < size:
            return self._page(fresh, after, last=len(records) < size)
        # A whole page of second T already read: walk the rest of T by sys_id, then leave it.
        ties = await self._read(
            f"sys_updated_on={after.updated}^sys_id>{after.sys_id}", "ORDERBYsys_id", size
        )
        if ties:
            return self._page(ties, after, last=False)
        later = await self._read(f"sys_updated_on>{after.updated}", ORDER, size)
        return self._page(later, after, last=len(later) < size)

    def _page(self, records: list[dict[str, Any]], after: Key | None, *, last: bool) -> KeysetPage:
        keys = [key for key in map(key_of, records) if key is not None]
        moved = max(keys, default=after)
        if not last and moved == after:
            # Records without sys_updated_on or sys_id: the next page would be this one again.
            raise NotTheSystem(
                f"{self._client.instance} answered incidents without sys_updated_on or sys_id; "
                "they cannot be paged"
            )
        return KeysetPage(records, moved, last)
