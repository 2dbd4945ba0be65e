"""Bearer tokens for the API and the SSE gateway: one verifier, one way to mint events tokens."""

from rita_auth.events_tokens import EventsTokens, events_token_secret
from rita_auth.settings import AuthSettings
from rita_auth.tokens import InvalidToken, JwtVerifier, issue_token

__all__ = [
    "AuthSettings",
    "EventsTokens",
    "InvalidToken",
    "JwtVerifier",
    "events_token_secret",
    "issue_token",
]
