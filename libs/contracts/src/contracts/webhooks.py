"""Webhook bodies Rita sends to the external sync service (`POST SYNC_WEBHOOK_URL`).

Field names match Rita's existing external service exactly. Only `verify_credentials` carries
credentials; serialise it with `to_wire()` to reveal them for that one request.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from contracts.connection_settings import REVEAL_SECRETS, Credentials
from contracts.types import DataSourceType

WEBHOOK_SOURCE: Final = "rita-chat"


def _now() -> datetime:
    return datetime.now(UTC)


class WebhookBase(BaseModel):
    """Fields every webhook carries."""

    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    source: Literal["rita-chat"] = "rita-chat"
    tenant_id: UUID
    user_id: str
    user_email: str | None = None
    connection_id: UUID
    connection_type: DataSourceType
    timestamp: datetime = Field(default_factory=_now)

    def wire_payload(self) -> dict[str, Any]:
        """The JSON body as a dict (secrets revealed: call only to send this webhook)."""
        return self.model_dump(mode="json", context=REVEAL_SECRETS)

    def to_wire(self) -> bytes:
        """The exact JSON body to send (secrets revealed: call only to send this webhook)."""
        return json.dumps(self.wire_payload(), separators=(",", ":")).encode()


class VerifyCredentialsWebhook(WebhookBase):
    """Check these credentials against the ITSM and store them on the sync service's side."""

    action: Literal["verify_credentials"] = "verify_credentials"
    credentials: Credentials
    settings: dict[str, Any]
    # This verification's id (DESIGN §9): the `verification` message echoes it, and a result
    # naming an older id is ignored. Optional on input: Rita's own API does not send one.
    verification_id: UUID | None = None


class SyncTicketsSettings(BaseModel):
    """The connection's settings plus the import window."""

    model_config = ConfigDict(extra="allow", frozen=True)

    time_range_days: int = Field(ge=1, le=365)


class SyncTicketsWebhook(WebhookBase):
    """Import tickets for this run (credentials are looked up by the sync service)."""

    action: Literal["sync_tickets"] = "sync_tickets"
    settings: SyncTicketsSettings
    ingestion_run_id: UUID


class CancelIngestionWebhook(WebhookBase):
    """Stop this run."""

    action: Literal["cancel_ingestion"] = "cancel_ingestion"
    settings: dict[str, Any] = Field(default_factory=dict)
    ingestion_run_id: UUID


WebhookPayload = Annotated[
    VerifyCredentialsWebhook | SyncTicketsWebhook | CancelIngestionWebhook,
    Field(discriminator="action"),
]
_WEBHOOK_ADAPTER: TypeAdapter[WebhookPayload] = TypeAdapter(WebhookPayload)


class InvalidWebhook(ValueError):
    """A webhook body that does not fit the contract."""


def parse_webhook(raw: bytes | str | dict[str, Any]) -> WebhookPayload:
    """Parse a webhook body; raise `InvalidWebhook` with a reason that names no input value."""
    try:
        if isinstance(raw, dict):
            return _WEBHOOK_ADAPTER.validate_python(raw)
        return _WEBHOOK_ADAPTER.validate_json(raw)
    except ValidationError as exc:
        raise InvalidWebhook(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """`loc: message; loc: message`, never the offending values (they may be secrets)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        location = ".".join(str(item) for item in error["loc"]) or "body"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)
