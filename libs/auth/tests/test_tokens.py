"""Token verification: the tenant comes from a valid token only."""

import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from contracts import EVENTS_TOKEN_AUDIENCE, Principal, Role
from rita_auth import InvalidToken, JwtVerifier, issue_token

SECRET = "unit-test-secret-0123456789-abcdefghijklmnop"
ALICE = Principal(sub="alice", email="alice@example.com", tenant_id=uuid.uuid4(), role=Role.ADMIN)


def test_hs256_round_trip_gives_the_principal() -> None:
    verifier = JwtVerifier(secret=SECRET)
    token = issue_token(SECRET, ALICE, ttl_seconds=60)
    assert verifier.verify(token) == ALICE


def test_a_token_for_another_audience_is_not_an_api_token() -> None:
    token = issue_token(SECRET, ALICE, ttl_seconds=60, audience=EVENTS_TOKEN_AUDIENCE)
    with pytest.raises(InvalidToken, match="audience"):
        JwtVerifier(secret=SECRET).verify(token)
    configured = JwtVerifier(secret=SECRET, audience="rita-api")
    with pytest.raises(InvalidToken, match="audience"):
        configured.verify(token)
    assert (
        configured.verify(issue_token(SECRET, ALICE, ttl_seconds=60, audience="rita-api")) == ALICE
    )


def test_expired_wrong_key_and_garbage_are_refused() -> None:
    verifier = JwtVerifier(secret=SECRET)
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(issue_token(SECRET, ALICE, ttl_seconds=-60))
    with pytest.raises(InvalidToken):
        verifier.verify(
            issue_token("another-secret-0123456789-abcdefghijkl", ALICE, ttl_seconds=60)
        )
    with pytest.raises(InvalidToken):
        verifier.verify("not.a.token")


def test_missing_tenant_claim_is_refused() -> None:
    token = jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    with pytest.raises(InvalidToken, match="tenant_id"):
        JwtVerifier(secret=SECRET).verify(token)


def test_rs256_without_jwks_is_refused() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(
        {"sub": "x", "tenant_id": str(uuid.uuid4()), "exp": int(time.time()) + 60},
        key,
        algorithm="RS256",
    )
    with pytest.raises(InvalidToken, match="algorithm"):
        JwtVerifier(secret=SECRET).verify(token)


def test_verifier_needs_a_key_source() -> None:
    with pytest.raises(ValueError, match="AUTH_JWT_SECRET"):
        JwtVerifier(secret=None)
