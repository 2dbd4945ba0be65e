"""Verify Bearer JWTs and mint short-lived tokens.

User tokens come either signed HS256 with `AUTH_JWT_SECRET` (development, tests, simple setups) or
RS256/ES256 by an OIDC provider whose keys are at `AUTH_JWKS_URL` (issuer, audience checked).
Events tokens for `EventSource` have their own audience and key: see `rita_auth.events_tokens`.
A token with an audience is refused here unless that audience is the configured API audience.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Final

import jwt
from pydantic import SecretStr, ValidationError

from contracts import Principal

_ASYMMETRIC: Final = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256")
_LEEWAY_SECONDS: Final = 10


Secret = str | SecretStr


def plain_secret(secret: Secret | None) -> str | None:
    """The secret's text, or None when it is unset or empty."""
    if isinstance(secret, SecretStr):
        return secret.get_secret_value() or None
    return secret or None


class InvalidToken(Exception):
    """The token is missing, malformed, expired, for another audience, or lacks a claim."""


class JwtVerifier:
    """Checks signature, expiry, audience (and issuer for provider tokens); returns the caller."""

    def __init__(
        self,
        *,
        secret: Secret | None,
        jwks_url: str | None = None,
        issuer: str | None = None,
        audience: str | None = None,
    ) -> None:
        if not secret and not jwks_url:
            raise ValueError("AUTH_JWT_SECRET or AUTH_JWKS_URL must be set")
        self._secret = plain_secret(secret)
        self._issuer = issuer
        self._audience = audience
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=600) if jwks_url else None

    def verify(self, token: str) -> Principal:
        """Verify an API token (audience: `AUTH_AUDIENCE` if configured, else none at all)."""
        expected_audience = self._audience
        try:
            header = jwt.get_unverified_header(token)
            algorithm = str(header.get("alg", ""))
            if algorithm == "HS256" and self._secret:
                key: Any = self._secret
                issuer = self._issuer
            elif algorithm in _ASYMMETRIC and self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
                issuer = self._issuer
            else:
                raise InvalidToken("unsupported token algorithm")
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=expected_audience,
                issuer=issuer,
                leeway=_LEEWAY_SECONDS,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": expected_audience is not None,
                },
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(token_error_reason(exc)) from None
        if expected_audience is None and "aud" in claims:
            # A token minted for another audience (an events token) is not an API token.
            raise InvalidToken("token audience not accepted here")
        return principal_of(claims)

    async def verify_async(self, token: str) -> Principal:
        """`verify` off the event loop when a JWKS fetch may be needed."""
        if self._jwks is None:
            return self.verify(token)
        return await asyncio.to_thread(self.verify, token)


def token_error_reason(exc: jwt.PyJWTError) -> str:
    """A readable reason for a refused token (never the token itself)."""
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "token expired"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "token audience not accepted here"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "token issuer not accepted"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"token lacks the {exc.claim} claim"
    return "invalid token"


def principal_of(claims: dict[str, Any]) -> Principal:
    """The caller a verified token names; `InvalidToken` when a claim it needs is missing."""
    try:
        return Principal.model_validate(claims)
    except ValidationError:
        raise InvalidToken("token lacks the tenant_id, sub or role claims") from None


def issue_token(
    secret: Secret, principal: Principal, *, ttl_seconds: int, audience: str | None = None
) -> str:
    """Mint an HS256 token for `principal` that expires after `ttl_seconds`."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": principal.sub,
        "email": principal.email,
        "tenant_id": str(principal.tenant_id),
        "role": principal.role.value,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if audience:
        claims["aud"] = audience
    key = plain_secret(secret)
    if key is None:
        raise ValueError("a signing key is required")
    return jwt.encode(claims, key, algorithm="HS256")
