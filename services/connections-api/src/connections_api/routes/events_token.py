"""`POST /api/events/token`: a short-lived token for the SSE gateway's `?access_token=`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from connections_api.deps import PrincipalDep, StateDep
from connections_api.errors import PROBLEM_JSON, Unavailable
from connections_api.schemas import TokenResponse
from contracts import EVENTS_TOKEN_AUDIENCE, EVENTS_TOKEN_TTL_SECONDS
from rita_auth import issue_token

_problem: dict[str, Any] = {
    "content": {PROBLEM_JSON: {}},
    "description": "Problem details (RFC 9457)",
}
router = APIRouter(prefix="/api/events", tags=["events"], responses={401: _problem, 503: _problem})


@router.post("/token")
async def create_events_token(state: StateDep, principal: PrincipalDep) -> TokenResponse:
    """A token for `EventSource` (its own audience, valid 120 s), for the caller's tenant."""
    secret = state.settings.auth_jwt_secret
    if not secret:
        raise Unavailable("Events tokens need AUTH_JWT_SECRET")
    token = issue_token(
        secret, principal, ttl_seconds=EVENTS_TOKEN_TTL_SECONDS, audience=EVENTS_TOKEN_AUDIENCE
    )
    return TokenResponse(access_token=token, expires_in=EVENTS_TOKEN_TTL_SECONDS)
