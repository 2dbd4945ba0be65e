"""Messages on the `data_source_status` queue, and the one entry point that parses them.

Real publishers vary: some say `message_type` instead of `type`, Rita's mock says `error` instead
of `error_message`, `timestamp` may be missing, extra fields appear. Those are accepted. What the
consumer relies on is strict: ids are UUIDs and statuses are known values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    TypeAdapter,
    ValidationError,
)

from contracts.webhooks import describe_validation_error


class InvalidStatusMessage(ValueError):
    """The message is not JSON or does not fit the contract; `str()` is a readable reason."""


class StatusMessageBase(BaseModel):
    """Fields every status message may carry."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    tenant_id: UUID
    message_id: str | None = Field(default=None, max_length=200)
    timestamp: datetime | None = None


class VerificationMessage(StatusMessageBase):
    """Result of `verify_credentials`."""

    type: Literal["verification"] = "verification"
    connection_id: UUID
    status: Literal["success", "failed"]
    options: dict[str, Any] | None = None
    error: str | None = Field(
        default=None, validation_alias=AliasChoices("error", "error_message"), max_length=2000
    )
    error_detail: dict[str, Any] | None = None


class TicketIngestionMessage(StatusMessageBase):
    """Progress or end of a ticket import run."""

    type: Literal["ticket_ingestion"] = "ticket_ingestion"
    ingestion_run_id: UUID
    connection_id: UUID | None = None
    status: Literal["running", "completed", "failed"]
    records_processed: NonNegativeInt | None = None
    records_failed: NonNegativeInt | None = None
    total_estimated: NonNegativeInt | None = None
    error_message: str | None = Field(
        default=None, validation_alias=AliasChoices("error_message", "error"), max_length=2000
    )
    error_detail: dict[str, Any] | None = None


class SyncMessage(StatusMessageBase):
    """Knowledge-source sync progress."""

    type: Literal["sync"] = "sync"
    connection_id: UUID
    status: Literal["sync_started", "sync_completed", "sync_failed", "sync_cancelled"]
    error_message: str | None = Field(
        default=None, validation_alias=AliasChoices("error_message", "error"), max_length=2000
    )
    documents_processed: NonNegativeInt | None = None


StatusMessage = Annotated[
    VerificationMessage | TicketIngestionMessage | SyncMessage, Field(discriminator="type")
]
_STATUS_ADAPTER: TypeAdapter[StatusMessage] = TypeAdapter(StatusMessage)
_KNOWN_TYPES = ("verification", "ticket_ingestion", "sync")


def _normalise(data: Mapping[str, Any]) -> dict[str, Any]:
    body = dict(data)
    if "type" not in body and "message_type" in body:
        body["type"] = body["message_type"]
    if "type" not in body and "ingestion_run_id" in body:
        body["type"] = "ticket_ingestion"
    kind = body.get("type")
    if kind not in _KNOWN_TYPES:
        if kind is None:
            raise InvalidStatusMessage("the message has no `type` (or `message_type`)")
        raise InvalidStatusMessage(
            f"unknown message type {str(kind)[:40]!r}; expected one of {', '.join(_KNOWN_TYPES)}"
        )
    return body


def parse_status_message(raw: bytes | str | Mapping[str, Any]) -> StatusMessage:
    """Parse one status message (bytes, str or mapping) or raise `InvalidStatusMessage`."""
    if isinstance(raw, bytes | str):
        # PostgreSQL cannot store U+0000 in text or jsonb: refuse it here, so the message goes to
        # the dead-letter queue at once instead of failing its database batch again and again.
        if isinstance(raw, bytes):
            has_nul = b"\\u0000" in raw or b"\x00" in raw
        else:
            has_nul = "\\u0000" in raw or "\x00" in raw
        if has_nul:
            raise InvalidStatusMessage("the message contains a NUL character (U+0000)")
        try:
            data = json.loads(raw)
        except UnicodeDecodeError:
            raise InvalidStatusMessage("the message is not valid JSON (not UTF-8 text)") from None
        except json.JSONDecodeError as exc:
            raise InvalidStatusMessage(f"the message is not valid JSON ({exc.msg})") from None
    else:
        data = raw
    if not isinstance(data, Mapping):
        raise InvalidStatusMessage("the message is not a JSON object")
    body = _normalise(data)
    try:
        return _STATUS_ADAPTER.validate_python(body)
    except ValidationError as exc:
        reason = describe_validation_error(exc)
        raise InvalidStatusMessage(f"{body['type']} message: {reason}") from None
