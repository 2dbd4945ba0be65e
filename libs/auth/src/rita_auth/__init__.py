"""Bearer tokens for the API and the SSE gateway: one verifier, one way to mint events tokens."""

from rita_auth.tokens import InvalidToken, JwtVerifier, issue_token

__all__ = ["InvalidToken", "JwtVerifier", "issue_token"]
