"""The verified-token cache: one signature check per token, never trusted past `exp`."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from connections_api.tokens import MAX_AGE_SECONDS, CachingVerifier, _until
from contracts import Principal, Role
from rita_auth import InvalidToken, JwtVerifier, issue_token

SECRET = "cache-test-secret-" + "x" * 32


class CountingVerifier(JwtVerifier):
    def __init__(self) -> None:
        super().__init__(secret=SECRET)
        self.calls = 0

    async def verify_async(self, token: str) -> Principal:
        self.calls += 1
        return await super().verify_async(token)


async def test_a_token_is_verified_once_then_served_from_the_cache() -> None:
    counting = CountingVerifier()
    cache = CachingVerifier(counting)
    principal = Principal(sub="u", tenant_id=uuid.uuid4(), role=Role.MEMBER)
    token = issue_token(SECRET, principal, ttl_seconds=600)
    first = await cache.verify(token)
    second = await cache.verify(token)
    assert first == second == principal
    assert counting.calls == 1
    with pytest.raises(InvalidToken):
        await cache.verify(token[:-2] + "xx")
    assert counting.calls == 2


def test_an_entry_lives_at_most_the_max_age_and_never_past_exp() -> None:
    principal = Principal(sub="u", tenant_id=uuid.uuid4(), role=Role.MEMBER)
    assert _until("t", (principal, 1_000.0), 990.0) == 1_000.0  # exp first
    assert _until("t", (principal, 1e12), 990.0) == 990.0 + MAX_AGE_SECONDS


async def test_the_cache_stops_serving_an_entry_after_the_max_age_and_at_exp() -> None:
    counting = CountingVerifier()
    now = [time.time()]
    cache = CachingVerifier(counting, timer=lambda: now[0])
    principal = Principal(sub="u", tenant_id=uuid.uuid4(), role=Role.MEMBER)
    long_lived = issue_token(SECRET, principal, ttl_seconds=3600)
    await cache.verify(long_lived)
    now[0] += MAX_AGE_SECONDS - 1
    await cache.verify(long_lived)
    assert counting.calls == 1  # still cached
    now[0] += 2  # past the max age: verified again
    await cache.verify(long_lived)
    assert counting.calls == 2

    short_lived = issue_token(SECRET, principal, ttl_seconds=30)
    await cache.verify(short_lived)
    expires = jwt.decode(short_lived, options={"verify_signature": False})["exp"]
    now[0] = float(expires) + 1  # within the max age, but past `exp`: never served from cache
    await cache.verify(short_lived)
    assert counting.calls == 4
