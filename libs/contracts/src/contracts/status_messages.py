"""Messages on the `data_source_status` queue, and the one entry point that parses them.

Real publishers vary: some say `message_type` instead of `type`, Rita's publishers say `error`
instead of `error_message` (on every type), send `"options": null, "error": null` when there is
nothing, and send verification `options` as a JSON object or a JSON array; `timestamp` may be
missing, extra fields appear. Those are accepted. What the consumer relies on is strict: ids are
UUIDs and statuses are known values.

A message that could never be applied is refused here, so it goes to the dead-letter queue at
once instead of failing its database transaction attempt after attempt: counters beyond the
columns' `integer` range, JSON nested deeper than `MAX_JSON_DEPTH`, a NUL character or a lone
UTF-16 surrogate (PostgreSQL stores neither). An error text longer than `ERROR_TEXT_MAX_LENGTH`
is not refused: it is stored cut, ending with `TRUNCATION_MARKER`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

from contracts.webhooks import describe_validation_error


class InvalidStatusMessage(ValueError):
    """The message is not JSON or does not fit the contract; `str()` is a readable reason."""


# Counters are PostgreSQL `integer` columns: a larger value could never be stored.
COUNTER_MAX: Final = 2**31 - 1
# Stored error texts are cut to this many characters (the marker included), never refused.
ERROR_TEXT_MAX_LENGTH: Final = 2000
TRUNCATION_MARKER: Final = " … [truncated]"
# `options` and `error_detail` are stored as jsonb; deeper nesting than this is not a real
# publisher's answer, and far deeper nesting cannot even be parsed (recursion limits).
MAX_JSON_DEPTH: Final = 32


def truncate_error_text(value: object) -> object:
    """An error text longer than `ERROR_TEXT_MAX_LENGTH`, cut and marked (other values as is)."""
    if isinstance(value, str) and len(value) > ERROR_TEXT_MAX_LENGTH:
        return value[: ERROR_TEXT_MAX_LENGTH - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER
    return value


def _json_depth(value: object) -> int:
    """Nesting depth of a JSON value (a scalar is 0, `{}` and `[1]` are 1), without recursion."""
    depth, level = 0, [value]
    while containers := [item for item in level if isinstance(item, dict | list)]:
        depth += 1
        level = [
            child
            for container in containers
            for child in (container.values() if isinstance(container, dict) else container)
        ]
    return depth


def _bounded_depth(value: Any) -> Any:
    if value is not None and _json_depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    return value


Counter = Annotated[int, Field(ge=0, le=COUNTER_MAX)]
ErrorText = Annotated[
    Annotated[str, Field(max_length=ERROR_TEXT_MAX_LENGTH)] | None,
    BeforeValidator(truncate_error_text),
]
JsonObject = Annotated[dict[str, Any] | None, AfterValidator(_bounded_depth)]


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
    # Echoed from the `verify_credentials` webhook; a result for another id than the one in
    # flight is ignored. Absent: the first result while verifying wins (Rita's sync service).
    verification_id: UUID | None = None
    # Stored as sent: an object (this project's connectors) or an array (Rita's publishers).
    options: Annotated[dict[str, Any] | list[Any] | None, AfterValidator(_bounded_depth)] = None
    error: ErrorText = Field(default=None, validation_alias=AliasChoices("error", "error_message"))
    error_detail: JsonObject = None


class TicketIngestionMessage(StatusMessageBase):
    """Progress or end of a ticket import run."""

    type: Literal["ticket_ingestion"] = "ticket_ingestion"
    ingestion_run_id: UUID
    connection_id: UUID | None = None
    # `cancelled`: the sync service stopped the run (after a `cancel_ingestion`, say).
    status: Literal["running", "completed", "failed", "cancelled"]
    records_processed: Counter | None = None
    records_failed: Counter | None = None
    total_estimated: Counter | None = None
    error_message: ErrorText = Field(
        default=None, validation_alias=AliasChoices("error_message", "error")
    )
    error_detail: JsonObject = None


class SyncMessage(StatusMessageBase):
    """Knowledge-source sync progress."""

    type: Literal["sync"] = "sync"
    connection_id: UUID
    status: Literal["sync_started", "sync_completed", "sync_failed", "sync_cancelled"]
    error_message: ErrorText = Field(
        default=None, validation_alias=AliasChoices("error_message", "error")
    )
    documents_processed: Counter | None = None


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


def _may_hold_lone_surrogate(raw: bytes | str) -> bool:
    # A JSON escape such as `\\ud800` alone parses into a str that cannot be encoded as UTF-8, so
    # PostgreSQL would refuse it on every attempt. Only a text with a `\\uD...` escape can hold
    # one: only those are checked.
    if isinstance(raw, bytes):
        return b"\\ud" in raw or b"\\uD" in raw
    return "\\ud" in raw or "\\uD" in raw


def _refuse_lone_surrogates(raw: bytes | str, data: object) -> None:
    if not _may_hold_lone_surrogate(raw):
        return
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidStatusMessage(
            "the message contains a lone UTF-16 surrogate (not valid Unicode text)"
        ) from None


def parse_status_message(raw: bytes | str | Mapping[str, Any]) -> StatusMessage:
    """Parse one status message (bytes, str or mapping) or raise `InvalidStatusMessage`.

    A body in the contract's own shape is validated straight from its JSON by pydantic (one pass
    in pydantic-core: 9 µs a message against 15 µs through `json.loads` and `validate_python`,
    measured on `bench/consumer.py`'s 20,000 messages). A body that pass refuses, one in a legacy
    spelling (`message_type`, no `type`) or an invalid one, takes the general path below, which
    accepts the spellings and names the reason: both paths give the same message for any body.
    """
    if isinstance(raw, bytes | str):
        # PostgreSQL cannot store U+0000 in text or jsonb: refuse it here, so the message goes to
        # the dead-letter queue at once instead of failing its database batch again and again.
        if isinstance(raw, bytes):
            has_nul = b"\\u0000" in raw or b"\x00" in raw
        else:
            has_nul = "\\u0000" in raw or "\x00" in raw
        if has_nul:
            raise InvalidStatusMessage("the message contains a NUL character (U+0000)")
        if not _may_hold_lone_surrogate(raw):
            try:
                return _STATUS_ADAPTER.validate_json(raw)
            except ValidationError:
                pass  # the general path accepts the legacy spellings, or says what is wrong
        try:
            data = json.loads(raw)
        except UnicodeDecodeError:
            raise InvalidStatusMessage("the message is not valid JSON (not UTF-8 text)") from None
        except json.JSONDecodeError as exc:
            raise InvalidStatusMessage(f"the message is not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise InvalidStatusMessage("the message is nested too deep to parse") from None
        _refuse_lone_surrogates(raw, data)
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
