"""Encoded queries of an import, and the instance URL a user may paste in any form.

An encoded query has no escape for its separators (`^`, `,` inside `IN`), so every value that goes
into one is either produced here (timestamps) or checked against a safe alphabet first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import urlsplit

from itsm_sync.connectors.base import Refused

# ServiceNow's internal date-time form (UTC): fixed width, so text order is time order.
TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
_SAFE_ID: Final = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_SAFE_NAME: Final = re.compile(r"^[^\^\s,=]{1,255}$")


def instance_base(url: str) -> str:
    """`https://acme.service-now.com/` or `…/now/nav/ui/home` → `https://acme.service-now.com`."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise Refused("The ServiceNow instance URL must be an http(s) URL with a host")
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}".lower()


def safe_user_name(username: str) -> str:
    """A user name that can stand in `user_name=<name>` without changing the query."""
    if not _SAFE_NAME.match(username):
        raise Refused("The ServiceNow user name may not contain spaces, ^, , or =")
    return username


def servicenow_time(moment: datetime) -> str:
    """A UTC moment in the form ServiceNow stores and compares."""
    return moment.strftime(TIME_FORMAT)


def import_query(now: datetime, days: int, group_ids: Sequence[str]) -> str:
    """`sys_updated_on>=<now - days>[^assignment_groupIN<ids>]` (no order: paging adds it)."""
    clauses = [f"sys_updated_on>={servicenow_time(now - timedelta(days=days))}"]
    if group_ids:
        bad = [group for group in group_ids if not _SAFE_ID.match(group)]
        if bad:
            raise Refused("Invalid import scope: assignment group ids must be ServiceNow sys_ids")
        clauses.append(f"assignment_groupIN{','.join(group_ids)}")
    return "^".join(clauses)
