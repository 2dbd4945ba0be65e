"""Events tokens: short-lived HS256 tokens that let `EventSource` (no headers) open the stream.

They have their own audience (`rita-events`), so an events token cannot call the API and an API
token cannot ride in a URL, and their own key, `EVENTS_TOKEN_SECRET`, so that they exist when
user tokens come from an OIDC provider (JWKS only, no shared secret). Without
`EVENTS_TOKEN_SECRET`, `AUTH_JWT_SECRET` signs them (one secret for a simple setup); with neither,
the API and the gateway refuse to start (`events_token_secret` raises the line they print).
"""

from __future__ import annotations

from typing import Final

import jwt

from contracts import EVENTS_TOKEN_AUDIENCE, EVENTS_TOKEN_TTL_SECONDS, Principal
from rita_auth.tokens import (
    InvalidToken,
    Secret,
    issue_token,
    plain_secret,
    principal_of,
    token_error_reason,
)

_ALGORITHM: Final = "HS256"
_LEEWAY_SECONDS: Final = 10
# RFC 7518 §3.2: an HS256 key must be at least as long as the hash (32 bytes).
MIN_SECRET_LENGTH: Final = 32


def events_token_secret(events_secret: Secret | None, jwt_secret: Secret | None) -> str:
    """The key that signs events tokens: `EVENTS_TOKEN_SECRET`, else `AUTH_JWT_SECRET`.

    Raises `ValueError` with the start-up line to print when neither is set (JWKS-only mode)
    or `EVENTS_TOKEN_SECRET` is too short.
    """
    own = plain_secret(events_secret)
    if own is not None:
        if len(own) < MIN_SECRET_LENGTH:
            raise ValueError(f"EVENTS_TOKEN_SECRET must be at least {MIN_SECRET_LENGTH} characters")
        return own
    secret = plain_secret(jwt_secret)
    if secret is None:
        raise ValueError(
            "EVENTS_TOKEN_SECRET is required when AUTH_JWT_SECRET is not set "
            "(user tokens from AUTH_JWKS_URL only): it signs the events tokens for the SSE stream"
        )
    return secret


class EventsTokens:
    """Mints (API) and verifies (gateway) events tokens with one key."""

    def __init__(self, secret: Secret) -> None:
        key = plain_secret(secret)
        if key is None:
            raise ValueError("an events token key is required")
        self._key = key

    def issue(self, principal: Principal, *, ttl_seconds: int = EVENTS_TOKEN_TTL_SECONDS) -> str:
        """An events token for `principal`'s tenant, valid `ttl_seconds` (default 120 s)."""
        return issue_token(
            self._key, principal, ttl_seconds=ttl_seconds, audience=EVENTS_TOKEN_AUDIENCE
        )

    def verify(self, token: str) -> Principal:
        """The token's principal; `InvalidToken` unless it is a valid, unexpired events token."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[_ALGORITHM],
                audience=EVENTS_TOKEN_AUDIENCE,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["exp", "sub", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(token_error_reason(exc)) from None
        return principal_of(claims)
