"""The one interface every ITSM system implements (DESIGN §9).

A connector knows its system's API and nothing of runs, checkpoints, progress, the database or
RabbitMQ: those are shared (`verify.py`, `sync.py`, `runs.py`). It answers four questions:

- `verify`: do these settings and credentials work? → what to store, and the typed options;
- `import_query`: the run's query (time range and import scope), fixed when the run is created;
- `importer(...).total()`: how many tickets the query matches (for progress);
- `importer(...).page(cursor)`: one page of tickets and the cursor of the next one.

A cursor is an opaque string the runner stores with each page in the same transaction, so a run
resumes after the last stored page. A third system is one new folder that implements this.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypedDict, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from contracts import (
    ConnectionCredentials,
    DataSourceType,
    ErrorCode,
    SyncTicketsSettings,
    UnsafeUrlError,
    check_outbound_url,
    describe_validation_error,
)
from contracts.netpolicy import Resolver, system_resolver
from itsm_sync.connectors.http import RetryPolicy


class Refused(Exception):
    """The request cannot be tried as given (settings, URL policy, scope); `str()` is readable."""

    def __init__(self, message: str, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Site:
    """What a connector needs to call a system: the shared client, the SSRF allow-list, retries."""

    http: httpx.AsyncClient
    allowed_private_hosts: frozenset[str]
    policy: RetryPolicy
    # Resolves names for the SSRF check (the connect-time check re-resolves); tests pass a stub.
    resolver: Resolver = system_resolver


@dataclass(frozen=True)
class Verified:
    """A successful verification: what to store and what to report."""

    base_url: str
    settings: dict[str, Any]  # stored in clear: never a secret
    credentials: ConnectionCredentials  # stored encrypted only
    options: dict[str, Any]


@dataclass(frozen=True)
class StoredConnection:
    """The verified connection an import runs against (credentials decrypted, in memory only)."""

    base_url: str
    settings: dict[str, Any]
    credentials: bytes  # the credentials model's JSON


class Ticket(TypedDict):
    """One ticket in the shape of the `tickets` table (the runner adds tenant, run and type)."""

    external_id: str
    ticket_key: str
    scope: str | None
    summary: str | None
    status: str | None
    ticket_type: str | None
    priority: str | None
    source_created: datetime | None
    source_updated: datetime | None
    fields: dict[str, Any]


@dataclass(frozen=True)
class TicketPage:
    """One page: the tickets, how many records could not be read, and where the next starts."""

    tickets: Sequence[Ticket]
    failed: int
    cursor: str | None  # None: this was the last page


Model = TypeVar("Model", bound=BaseModel)


def ticket_page(
    records: Iterable[dict[str, Any]],
    to_ticket: Callable[[dict[str, Any]], Ticket | None],
    cursor: str | None,
) -> TicketPage:
    """A page of the records `to_ticket` can read, the last copy of each ticket winning."""
    tickets: dict[str, Ticket] = {}
    failed = 0
    for record in records:
        ticket = to_ticket(record)
        if ticket is None:
            failed += 1
        else:
            tickets[ticket["external_id"]] = ticket
    return TicketPage(list(tickets.values()), failed, cursor)


def parse_settings(model: type[Model], settings: dict[str, Any], name: str) -> Model:
    """The verification's settings as `model`; `Refused` naming each invalid field."""
    try:
        return model.model_validate(settings)
    except ValidationError as exc:
        raise Refused(f"Invalid {name} settings: {describe_validation_error(exc)}") from None


def stored_credentials(model: type[Model], connection: StoredConnection, name: str) -> Model:
    """The connection's decrypted credentials as `model`; `Refused` when they do not fit it."""
    try:
        return model.model_validate_json(connection.credentials)
    except ValueError:
        raise Refused(f"The stored {name} credentials cannot be read") from None


class Importer(Protocol):
    """One run's view of a system: the query and the account are fixed."""

    async def total(self) -> int:
        """How many tickets the query matches now."""
        ...

    async def page(self, cursor: str | None, size: int) -> TicketPage:
        """The page that starts at `cursor` (None: the first); raises `CursorExpired`."""
        ...


class Connector(Protocol):
    """One ITSM system."""

    source_type: DataSourceType
    name: str  # "Jira", "ServiceNow": the start of readable sentences

    async def verify(
        self, settings: dict[str, Any], credentials: BaseModel, site: Site
    ) -> Verified:
        """Prove the credentials; raises `Refused` or `ConnectorError`."""
        ...

    def import_query(self, settings: SyncTicketsSettings, now: datetime) -> str:
        """The run's query from the webhook's settings (time range, scope); raises `Refused`."""
        ...

    def importer(self, connection: StoredConnection, query: str, site: Site) -> Importer:
        """An importer for one run; raises `Refused` if the stored connection is unusable."""
        ...


def scope_ids(settings: SyncTicketsSettings, key: str, *, limit: int = 1000) -> list[str]:
    """The import scope under `key` in the webhook's settings; empty or absent = everything."""
    extra = settings.model_extra or {}
    raw = extra.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, str) and item for item in raw):
        raise Refused(f"Invalid import scope: {key} must be a list of non-empty strings")
    if len(raw) > limit:
        raise Refused(f"Invalid import scope: {key} names more than {limit} items")
    return list(dict.fromkeys(raw))


async def check_site(url: str, site: Site, noun: str) -> None:
    """The SSRF policy, the same for every system; raises `Refused` with a readable reason."""
    try:
        # getaddrinfo blocks: keep it off the event loop.
        await asyncio.to_thread(
            check_outbound_url, url, site.allowed_private_hosts, resolver=site.resolver
        )
    except UnsafeUrlError as exc:
        raise Refused(f"The {noun} URL may not be called: {exc}", ErrorCode.UNREACHABLE) from None
