"""Who is connecting: a Bearer API token, or an events token in `?access_token=`."""

from __future__ import annotations

from starlette.requests import Request

from contracts import Principal
from rita_auth import EventsTokens, InvalidToken, JwtVerifier


async def authenticate(
    request: Request, verifier: JwtVerifier, events_tokens: EventsTokens
) -> Principal:
    """Verify the caller's token; the tenant comes from it and from nowhere else."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken("Authorization must be 'Bearer <token>'")
        # API tokens: the verifier's configured audience (AUTH_AUDIENCE), if any.
        return await verifier.verify_async(token.strip())
    query_token = request.query_params.get("access_token")
    if query_token:
        # EventSource cannot send headers: only short-lived events tokens may ride in the URL.
        return events_tokens.verify(query_token)
    raise InvalidToken("missing bearer token")
