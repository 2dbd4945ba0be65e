"""Request and response bodies of the API that are not shared contracts."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts import Role


class VerifyRequest(BaseModel):
    """Settings (stored) and credentials (sent once to the sync service, never stored)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    settings: dict[str, Any] = Field(
        examples=[{"base_url": "https://company.atlassian.net", "email": "user@company.com"}]
    )
    credentials: dict[str, Any] = Field(
        examples=[{"email": "user@company.com", "api_token": "ATATT..."}]
    )


class SyncTicketsRequest(BaseModel):
    """How many days of tickets to import."""

    model_config = ConfigDict(extra="forbid")

    time_range_days: int = Field(default=30, ge=1, le=365, examples=[30, 60, 90])


class ConnectionPatch(BaseModel):
    """Partial update. `settings` is merged (a null value removes a key); `enabled` only false."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=2000)
    settings: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    enabled: bool | None = None


class TokenResponse(BaseModel):
    """A bearer token and its lifetime."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type name
    expires_in: int


class DevTokenRequest(BaseModel):
    """Who the development token is for (defaults: the dev tenant's admin)."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: UUID | None = None
    role: Role = Role.ADMIN
    email: str | None = Field(default=None, max_length=320)
    sub: str | None = Field(default=None, min_length=1, max_length=255)
