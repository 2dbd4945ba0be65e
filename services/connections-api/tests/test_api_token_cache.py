"""The verified-token cache: one signature check per token, never trusted past `exp`."""

from __future__ import annotations

import uuid

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
