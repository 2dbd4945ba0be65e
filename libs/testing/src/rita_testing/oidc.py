"""An OpenID Connect provider's signing side, for tests: its keys, its JWKS over loopback, tokens.

Enough of Keycloak or Auth0 for Rita's verifiers: an RSA and an EC key published as a JWKS (with
`kid`s) at a loopback URL, and tokens with Rita's claims signed by either key.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://keycloak.example.test/realms/rita"
AUDIENCE = "rita-connections"
TOKEN_SECONDS = 60


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class OidcProvider:
    """Two signing keys (`rsa-1` RS256, `ec-1` ES256) and the provider's issuer and audience."""

    rsa_key: rsa.RSAPrivateKey = field(default_factory=_rsa_key)
    ec_key: ec.EllipticCurvePrivateKey = field(default_factory=_ec_key)
    issuer: str = ISSUER
    audience: str = AUDIENCE

    def jwks(self) -> bytes:
        """The public keys as a JSON Web Key Set."""
        rsa_jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.rsa_key.public_key()))
        ec_jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(self.ec_key.public_key()))
        keys = [
            {**rsa_jwk, "kid": "rsa-1", "use": "sig"},
            {**ec_jwk, "kid": "ec-1", "use": "sig"},
        ]
        return json.dumps({"keys": keys}).encode()

    def token(
        self,
        tenant_id: uuid.UUID,
        role: str = "owner",
        *,
        algorithm: str = "RS256",
        key: Any = None,
        kid: str | None = None,
        **claims: Any,
    ) -> str:
        """A token with Rita's claims, signed RS256 by `rsa-1` (or ES256 by `ec-1`, or `key`)."""
        by_algorithm: dict[str, tuple[rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, str]] = {
            "RS256": (self.rsa_key, "rsa-1"),
            "ES256": (self.ec_key, "ec-1"),
        }
        default_key, default_kid = by_algorithm[algorithm]
        body = {
            "sub": "kc-user",
            "email": "admin@company.com",
            "tenant_id": str(tenant_id),
            "role": role,
            "iss": self.issuer,
            "aud": self.audience,
            "exp": int(time.time()) + TOKEN_SECONDS,
            **claims,
        }
        signing_key: Any = key if key is not None else default_key
        headers = {"kid": kid or default_kid}
        return jwt.encode(body, signing_key, algorithm=algorithm, headers=headers)


@contextlib.contextmanager
def serving_jwks(provider: OidcProvider) -> Iterator[str]:
    """Serve `provider`'s JWKS on loopback for the block; yields its URL."""
    body = provider.jwks()

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
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/certs"
    finally:
        server.shutdown()
        server.server_close()
