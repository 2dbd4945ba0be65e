"""`POST /api/events/token`: a short-lived token for the SSE gateway's `?access_token=`.

Signed with `EVENTS_TOKEN_SECRET` (else `AUTH_JWT_SECRET`), so that it exists also when user
tokens come only from an OIDC provider (`AUTH_JWKS_URL`): start-up refuses a setup with neither.
"""

from __future__ import annotations

from fastapi import APIRouter

from connections_api.deps import PrincipalDep, StateDep
from connections_api.errors import PROBLEM_RESPONSE
from connections_api.schemas import TokenResponse
from contracts import EVENTS_TOKEN_TTL_SECONDS
from rita_auth import EventsTokens

router = APIRouter(prefix="/api/events", tags=["events"], responses={401: PROBLEM_RESPONSE})


@router.post("/token")
async def create_events_token(state: StateDep, principal: PrincipalDep) -> TokenResponse:
    """A token for `EventSource` (its own audience, valid 120 s), for the caller's tenant."""
    token = EventsTokens(state.settings.events_token_key).issue(
        principal, ttl_seconds=EVENTS_TOKEN_TTL_SECONDS
    )
    return TokenResponse(access_token=token, expires_in=EVENTS_TOKEN_TTL_SECONDS)
