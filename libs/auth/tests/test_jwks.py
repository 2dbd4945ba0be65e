"""Provider tokens (RS256 and ES256) verified against a JWKS served over real HTTP on loopback."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from contracts import Role
from rita_auth import InvalidToken, JwtVerifier
from rita_testing.oidc import AUDIENCE, ISSUER, OidcProvider, serving_jwks

PROVIDER = OidcProvider()
TENANT = uuid.uuid4()


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    with serving_jwks(PROVIDER) as url:
        yield url


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_provider_token_is_verified_with_the_jwks(jwks_url: str, algorithm: str) -> None:
    verifier = JwtVerifier(secret=None, jwks_url=jwks_url, issuer=ISSUER, audience=AUDIENCE)
    principal = verifier.verify(PROVIDER.token(TENANT, algorithm=algorithm))
    assert principal.tenant_id == TENANT
    assert principal.role is Role.OWNER


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iss": "https://evil.example.test/"}, "issuer"),
        ({"aud": "another-app"}, "audience"),
        ({"exp": int(time.time()) - 120}, "expired"),
    ],
)
def test_provider_token_with_wrong_issuer_audience_or_expiry_is_refused(
    jwks_url: str, overrides: dict[str, Any], reason: str
) -> None:
    verifier = JwtVerifier(secret=None, jwks_url=jwks_url, issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(InvalidToken, match=reason):
        verifier.verify(PROVIDER.token(TENANT, **overrides))


def test_token_signed_by_a_key_outside_the_jwks_is_refused(jwks_url: str) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verifier = JwtVerifier(secret=None, jwks_url=jwks_url, issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(InvalidToken):
        verifier.verify(PROVIDER.token(TENANT, key=stranger))


async def test_verify_async_fetches_keys_off_the_event_loop(jwks_url: str) -> None:
    verifier = JwtVerifier(secret=None, jwks_url=jwks_url, issuer=ISSUER, audience=AUDIENCE)
    principal = await verifier.verify_async(PROVIDER.token(TENANT, algorithm="ES256"))
    assert principal.sub == "kc-user"
