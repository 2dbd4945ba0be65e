"""`POST /api/dev/token`: mounted only when AUTH_DEV_MODE=true."""

from __future__ import annotations

from fastapi import APIRouter

from connections_api.deps import StateDep
from connections_api.devtoken import DEV_TOKEN_TTL_SECONDS, dev_principal, mint_dev_token
from connections_api.errors import Unavailable
from connections_api.schemas import DevTokenRequest, TokenResponse

router = APIRouter(prefix="/api/dev", tags=["dev"])


@router.post("/token")
async def create_dev_token(state: StateDep, body: DevTokenRequest | None = None) -> TokenResponse:
    """A 12-hour token for any tenant and role (development only)."""
    secret = state.settings.auth_jwt_secret
    if not secret:
        raise Unavailable("Development tokens need AUTH_JWT_SECRET")
    request = body or DevTokenRequest()
    principal = dev_principal(
        tenant_id=request.tenant_id, role=request.role, email=request.email, sub=request.sub
    )
    return TokenResponse(
        access_token=mint_dev_token(secret.get_secret_value(), principal),
        expires_in=DEV_TOKEN_TTL_SECONDS,
    )
