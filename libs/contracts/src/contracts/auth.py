"""Token claims shared by the API and the SSE gateway."""

from __future__ import annotations

from enum import StrEnum
from typing import Final
from uuid import UUID

from pydantic import BaseModel, ConfigDict

# Audience of the short-lived tokens `POST /api/events/token` issues for `EventSource`.
EVENTS_TOKEN_AUDIENCE: Final = "rita-events"  # noqa: S105 - an audience name, not a secret
EVENTS_TOKEN_TTL_SECONDS: Final = 120


class Role(StrEnum):
    """Members read; owners and admins change."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"

    @property
    def can_change(self) -> bool:
        return self in {Role.OWNER, Role.ADMIN}


class Principal(BaseModel):
    """Who is calling, from the verified token's claims."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sub: str
    email: str | None = None
    tenant_id: UUID
    role: Role = Role.MEMBER


class MePublic(BaseModel):
    """`GET /api/me`: the signed-in caller, for the console's role-aware view."""

    model_config = ConfigDict(frozen=True)

    subject: str
    email: str | None = None
    tenant_id: UUID
    role: Role
