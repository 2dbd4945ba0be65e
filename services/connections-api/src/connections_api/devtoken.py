"""Development tokens (`POST /api/dev/token`, `scripts/dev-token.py`); never in production."""

from __future__ import annotations

from typing import Final
from uuid import UUID

from contracts import Principal, Role
from rita_auth import issue_token

DEV_TENANT_ID: Final = UUID("00000000-0000-4000-8000-00000000de00")
DEV_SUB: Final = "dev-admin"
DEV_EMAIL: Final = "admin@example.com"
DEV_TOKEN_TTL_SECONDS: Final = 12 * 3600


def dev_principal(
    *,
    tenant_id: UUID | None = None,
    role: Role = Role.ADMIN,
    email: str | None = None,
    sub: str | None = None,
) -> Principal:
    """The dev tenant's admin unless told otherwise."""
    return Principal(
        sub=sub or DEV_SUB,
        email=email or DEV_EMAIL,
        tenant_id=tenant_id or DEV_TENANT_ID,
        role=role,
    )


def mint_dev_token(secret: str, principal: Principal | None = None) -> str:
    """A 12-hour HS256 token."""
    return issue_token(secret, principal or dev_principal(), ttl_seconds=DEV_TOKEN_TTL_SECONDS)
