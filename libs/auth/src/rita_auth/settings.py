"""The token settings of every service that checks callers (connections-api, sse-gateway).

A service's settings class adds `AuthSettings` to its bases, so `AUTH_*` and
`EVENTS_TOKEN_SECRET` are read, checked at start and turned into verifiers the same way in each.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, SecretStr, model_validator

from rita_auth.events_tokens import events_token_secret
from rita_auth.tokens import JwtVerifier


class AuthSettings(BaseModel):
    """User tokens (HS256 secret or an OIDC provider's JWKS) and the events tokens' key."""

    auth_jwt_secret: SecretStr | None = None
    auth_jwks_url: str | None = None
    auth_issuer: str | None = None
    auth_audience: str | None = None
    # Signs events tokens; required when user tokens come only from AUTH_JWKS_URL (else
    # AUTH_JWT_SECRET signs them). The API mints and the gateway verifies with this same rule.
    events_token_secret: SecretStr | None = None

    @model_validator(mode="after")
    def _auth_keys_configured(self) -> Self:
        if not self.auth_jwt_secret and not self.auth_jwks_url:
            raise ValueError("AUTH_JWT_SECRET is required (or AUTH_JWKS_URL for an OIDC provider)")
        events_token_secret(self.events_token_secret, self.auth_jwt_secret)  # the start-up line
        return self

    @property
    def events_token_key(self) -> str:
        """The key that signs and verifies events tokens (see `events_token_secret`)."""
        return events_token_secret(self.events_token_secret, self.auth_jwt_secret)

    def jwt_verifier(self) -> JwtVerifier:
        """The verifier of user tokens these settings describe."""
        return JwtVerifier(
            secret=self.auth_jwt_secret,
            jwks_url=self.auth_jwks_url,
            issuer=self.auth_issuer,
            audience=self.auth_audience,
        )
