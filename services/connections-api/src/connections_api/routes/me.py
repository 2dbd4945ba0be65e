"""`GET /api/me`: who the console is signed in as, so it can show members a read-only view."""

from __future__ import annotations

from fastapi import APIRouter

from connections_api.deps import PrincipalDep
from connections_api.errors import PROBLEM_RESPONSE
from contracts import MePublic

router = APIRouter(prefix="/api", tags=["me"], responses={401: PROBLEM_RESPONSE})


@router.get("/me")
async def read_me(principal: PrincipalDep) -> MePublic:
    """The caller's subject, email, tenant and role (the API still enforces every role rule)."""
    return MePublic(
        subject=principal.sub,
        email=principal.email,
        tenant_id=principal.tenant_id,
        role=principal.role,
    )
