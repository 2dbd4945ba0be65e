"""Events tokens: own key and audience; JWKS-only setups need EVENTS_TOKEN_SECRET."""

import uuid

import jwt
import pytest
from pydantic import SecretStr

from contracts import EVENTS_TOKEN_AUDIENCE, Principal, Role
from rita_auth import EventsTokens, InvalidToken, JwtVerifier, events_token_secret, issue_token

EVENTS_KEY = "events-key-0123456789-abcdefghijklmnopqrstuv"
API_KEY = "api-key-0123456789-abcdefghijklmnopqrstuvwxyz"
BOB = Principal(sub="bob", email="bob@example.com", tenant_id=uuid.uuid4(), role=Role.MEMBER)


def test_minted_token_verifies_to_the_same_principal() -> None:
    tokens = EventsTokens(SecretStr(EVENTS_KEY))
    assert tokens.verify(tokens.issue(BOB)) == BOB


def test_token_signed_with_another_key_is_refused() -> None:
    token = EventsTokens(API_KEY).issue(BOB)
    with pytest.raises(InvalidToken, match="invalid token"):
        EventsTokens(EVENTS_KEY).verify(token)


def test_expired_events_token_is_refused() -> None:
    tokens = EventsTokens(EVENTS_KEY)
    with pytest.raises(InvalidToken, match="expired"):
        tokens.verify(tokens.issue(BOB, ttl_seconds=-60))


def test_api_token_is_not_an_events_token_and_the_reverse() -> None:
    api_token = issue_token(EVENTS_KEY, BOB, ttl_seconds=60)  # right key, no audience
    with pytest.raises(InvalidToken, match="aud"):
        EventsTokens(EVENTS_KEY).verify(api_token)
    events_token = EventsTokens(API_KEY).issue(BOB)  # the API's own key, events audience
    with pytest.raises(InvalidToken, match="audience"):
        JwtVerifier(secret=API_KEY).verify(events_token)


def test_an_events_token_carries_the_events_audience() -> None:
    token = EventsTokens(EVENTS_KEY).issue(BOB)
    claims = jwt.decode(token, EVENTS_KEY, algorithms=["HS256"], audience=EVENTS_TOKEN_AUDIENCE)
    assert (claims["tenant_id"], claims["exp"] - claims["iat"]) == (str(BOB.tenant_id), 120)


def test_events_secret_wins_and_auth_secret_is_the_fallback() -> None:
    assert events_token_secret(SecretStr(EVENTS_KEY), SecretStr(API_KEY)) == EVENTS_KEY
    assert events_token_secret(None, SecretStr(API_KEY)) == API_KEY
    assert events_token_secret(SecretStr(""), API_KEY) == API_KEY


def test_jwks_only_mode_without_events_secret_names_the_variable() -> None:
    with pytest.raises(ValueError, match=r"^EVENTS_TOKEN_SECRET is required when AUTH_JWT_SECRET"):
        events_token_secret(None, None)


def test_short_events_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="EVENTS_TOKEN_SECRET must be at least 32"):
        events_token_secret("short", API_KEY)
