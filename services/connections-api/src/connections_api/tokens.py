"""A cache of verified bearer tokens: the signature is checked once, the expiry every time.

`cachetools.TLRUCache` keeps each entry until its own time to use: at most `MAX_AGE_SECONDS`
after the verification, never past the token's `exp` (read with PyJWT from the token that was
just verified). Least recently used entries go first when it is full.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

import jwt
from cachetools import TLRUCache

from contracts import Principal
from rita_auth import InvalidToken, JwtVerifier

# Tokens of the callers of the last minute or so: a console polls and refetches with one token.
MAX_ENTRIES: Final = 4096
# A revoked signing key stops working within this time, whatever the token's own expiry.
MAX_AGE_SECONDS: Final = 60.0


def _until(_token: str, entry: tuple[Principal, float], now: float) -> float:
    """The entry's time to use: `now + MAX_AGE_SECONDS`, never past `exp`."""
    return min(now + MAX_AGE_SECONDS, entry[1])


class CachingVerifier:
    """`verify_async` behind a TLRU cache of recent tokens."""

    def __init__(self, verifier: JwtVerifier, timer: Callable[[], float] = time.time) -> None:
        self._verifier = verifier
        # A wall-clock timer (`exp` is a Unix time); tests pass a clock of their own.
        self._cache: TLRUCache[str, tuple[Principal, float]] = TLRUCache(
            maxsize=MAX_ENTRIES, ttu=_until, timer=timer
        )

    async def verify(self, token: str) -> Principal:
        """The token's principal, or `InvalidToken`."""
        hit = self._cache.get(token)
        if hit is not None:
            return hit[0]
        principal = await self._verifier.verify_async(token)
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
            expires = float(claims["exp"])
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):
            raise InvalidToken("invalid token") from None
        self._cache[token] = (principal, expires)
        return principal
