"""A cache of verified bearer tokens: the signature is checked once, the expiry every time."""

from __future__ import annotations

import base64
import json
import time
from collections import OrderedDict
from typing import Final

from contracts import Principal
from rita_auth import InvalidToken, JwtVerifier

_MAX_ENTRIES: Final = 4096
_MAX_AGE_SECONDS: Final = 60.0


def _expiry(token: str) -> float:
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims["exp"])


class CachingVerifier:
    """`verify_async` with an LRU of recent tokens (kept at most 60 s, never past `exp`)."""

    def __init__(self, verifier: JwtVerifier) -> None:
        self._verifier = verifier
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    async def verify(self, token: str) -> Principal:
        """The token's principal, or `InvalidToken`."""
        now = time.time()
        hit = self._cache.get(token)
        if hit is not None:
            principal, valid_until = hit
            if now < valid_until:
                self._cache.move_to_end(token)
                return principal
            del self._cache[token]
        principal = await self._verifier.verify_async(token)
        try:
            valid_until = min(now + _MAX_AGE_SECONDS, _expiry(token))
        except (ValueError, KeyError, IndexError, TypeError):
            raise InvalidToken("invalid token") from None
        self._cache[token] = (principal, valid_until)
        if len(self._cache) > _MAX_ENTRIES:
            self._cache.popitem(last=False)
        return principal
