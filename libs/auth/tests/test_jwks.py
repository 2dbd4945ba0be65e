"""Provider tokens (RS256 and ES256) verified against a JWKS served over real HTTP on loopback."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from contracts import Role
from rita_auth import InvalidToken, JwtVerifier

ISSUER = "https://keycloak.example.test/realms/rita"
AUDIENCE = "rita-connections"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
TENANT = uuid.uuid4()


def _jwks() -> bytes:
    rsa_jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
    ec_jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(EC_KEY.public_key()))
    keys = [{**rsa_jwk, "kid": "rsa-1", "use": "sig"}, {**ec_jwk, "kid": "ec-1", "use": "sig"}]
    return json.dumps({"keys": keys}).encode()


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    body = _jwks()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/certs"
    server.shutdown()
    server.server_close()


def _token(key: Any, algorithm: str, kid: str, **overrides: Any) -> str:
    claims = {
        "sub": "kc-user",
        "email": "admin@company.com",
        "tenant_id": str(TENANT),
        "role": "owner",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": int(time.time()) + 60,
        **overrides,
    }
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


@pytest.mark.parametrize(
    ("key", "algorithm", "kid"), [(RSA_KEY, "RS256", "rsa-1"), (EC_KEY, "ES256", "ec-1")]
)
def test_provider_token_is_verified_with_the_jwks(
    jwks_url: str, key: Any, algorithm: str, kid: str
) -> None:
    verifier = JwtVerifier(secret=None, jwks_url=jwks_url, issuer=ISSUER, audience=AUDIENCE)
    principal = verifier.verify(_token(key, algorithm, kid))
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
        verifier.verify(_token(RSA_KEY, "RS256", "rsa-1", **overrides))


def test_token_signed_by_a_key_outside_the_jwks_is_refused(jwks_url: str) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verifier = JwtVerifier(secret=None, jwks_url=jwks_url, issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(InvalidToken):
        verifier.verify(_token(stranger, "RS256", "rsa-1"))


async def test_verify_async_fetches_keys_off_the_event_loop(jwks_url: str) -> None:
    verifier = JwtVerifier(secret=None, jwks_url=jwks_url, issuer=ISSUER, audience=AUDIENCE)
    principal = await verifier.verify_async(_token(EC_KEY, "ES256", "ec-1"))
    assert principal.sub == "kc-user"
