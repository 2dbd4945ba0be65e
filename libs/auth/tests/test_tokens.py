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


def test_events_token_only_valid_for_its_audience() -> None:
    verifier = JwtVerifier(secret=SECRET)
    token = issue_token(SECRET, ALICE, ttl_seconds=60, audience=EVENTS_TOKEN_AUDIENCE)
    assert verifier.verify(token, audience=EVENTS_TOKEN_AUDIENCE).tenant_id == ALICE.tenant_id
    with pytest.raises(InvalidToken, match="audience"):
        verifier.verify(token)
    api_token = issue_token(SECRET, ALICE, ttl_seconds=60)
    with pytest.raises(InvalidToken):
        verifier.verify(api_token, audience=EVENTS_TOKEN_AUDIENCE)


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
