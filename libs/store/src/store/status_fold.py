"""Folding one batch's messages per row, so one set-based statement equals in-order application.

Run rules (state-rules.md): a terminal run never changes; counters only rise. So, in delivery
order, the messages for one run after its first terminal message are no-ops, and everything
before it reduces to "the highest counters, the earliest running time". A verification applies
only while the connection is `verifying` and only if it names no `verification_id` or the one in
flight; the first result that applies ends `verifying`. So, per connection, the first message
that passes the id check is the only one that can matter; the ones before it that name another
id are ignored (stale answers to an older request).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from contracts import (
    CREDENTIAL_ERROR_CODES,
    ErrorCode,
    TicketIngestionMessage,
    VerificationMessage,
    parse_error_code,
)

_CREDENTIAL_TEXT = re.compile(r"authenticat|permission|credential|\b401\b|\b403\b", re.IGNORECASE)
REVERIFY_SUFFIX = " — verify the credentials again"


def error_code(detail: Mapping[str, Any] | None) -> ErrorCode | None:
    """The known code in `error_detail.error_code` (legacy spellings mapped), else None."""
    return parse_error_code((detail or {}).get("error_code"))


def is_credential_failure(error: str | None, detail: Mapping[str, Any] | None) -> bool:
    """Whether a failed run says the stored credentials no longer work."""
    if error_code(detail) in CREDENTIAL_ERROR_CODES:
        return True
    return bool(error and _CREDENTIAL_TEXT.search(error))


def reverify_code(detail: Mapping[str, Any] | None) -> ErrorCode:
    """`last_verification_error_code` after a credential failure (`auth_failed` when the
    failure was recognised by its text only)."""
    code = error_code(detail)
    return code if code in CREDENTIAL_ERROR_CODES else ErrorCode.AUTH_FAILED


def reverify_error(error: str | None) -> str:
    """`last_verification_error` after a credential failure: the console offers re-verify."""
    return f"{error or 'The sync service could not use the stored credentials'}{REVERIFY_SUFFIX}"


def utc(ts: datetime | None) -> datetime | None:
    """A naive timestamp is taken as UTC."""
    return ts.replace(tzinfo=UTC) if ts is not None and ts.tzinfo is None else ts


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass(slots=True)
class RunDelta:
    """The combined effect of one batch's messages on one run."""

    run_id: UUID
    tenant_id: UUID
    records_processed: int | None = None
    records_failed: int | None = None
    total_estimated: int | None = None
    running: bool = False
    running_at: datetime | None = None
    terminal_status: str | None = None
    terminal_at: datetime | None = None
    error_message: str | None = None
    error_code: ErrorCode | None = None
    error_detail: dict[str, Any] | None = None
    credential_failure: bool = False

    def add(self, m: TicketIngestionMessage) -> None:
        """Fold the next message (in delivery order) into this delta."""
        if self.terminal_status is not None:
            return  # the run is over: later messages change nothing
        self.records_processed = _max(self.records_processed, m.records_processed)
        self.records_failed = _max(self.records_failed, m.records_failed)
        self.total_estimated = _max(self.total_estimated, m.total_estimated)
        ts = utc(m.timestamp)
        if m.status == "running":
            self.running = True
            if ts is not None:
                self.running_at = ts if self.running_at is None else min(self.running_at, ts)
            return
        self.terminal_status = m.status
        self.terminal_at = ts
        self.error_message = m.error_message
        self.error_code = error_code(m.error_detail)
        self.error_detail = m.error_detail
        self.credential_failure = m.status == "failed" and is_credential_failure(
            m.error_message, m.error_detail
        )


def fold_runs(messages: Iterable[TicketIngestionMessage]) -> list[RunDelta]:
    """One delta per (run, tenant), in first-seen order."""
    deltas: dict[tuple[UUID, UUID], RunDelta] = {}
    for m in messages:
        key = (m.ingestion_run_id, m.tenant_id)
        delta = deltas.get(key)
        if delta is None:
            delta = deltas[key] = RunDelta(m.ingestion_run_id, m.tenant_id)
        delta.add(m)
    return list(deltas.values())


Key = tuple[UUID, UUID]  # (row id, tenant id)


@dataclass(frozen=True, slots=True)
class VerificationFold:
    """Per connection, the one result that may apply, and the results ignored as stale."""

    candidates: list[VerificationMessage]
    stale: list[VerificationMessage]


def fold_verifications(
    messages: Iterable[VerificationMessage], in_flight: Mapping[Key, UUID | None]
) -> VerificationFold:
    """The first result per (connection, tenant) that passes the id check, timestamps UTC-aware.

    `in_flight` maps the connections of this tenant that exist to their `verification_id` (None
    when none is in flight); a message naming another id than its row's is stale. A message for
    a row not in `in_flight` (another tenant's, say) is a candidate: the guarded UPDATE decides.
    """
    chosen: dict[Key, VerificationMessage] = {}
    stale: list[VerificationMessage] = []
    for m in messages:
        key = (m.connection_id, m.tenant_id)
        if key in chosen:
            continue  # the connection's result is decided: later ones cannot apply
        named = m.verification_id
        if named is not None and key in in_flight and in_flight[key] != named:
            stale.append(m)
            continue
        chosen[key] = m.model_copy(update={"timestamp": utc(m.timestamp)})
    return VerificationFold(list(chosen.values()), stale)
