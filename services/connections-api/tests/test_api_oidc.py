"""The API behind an OpenID Connect provider alone (AUTH_JWKS_URL, no AUTH_JWT_SECRET), end to end.

The provider's RS256/ES256 tokens open every route; the events tokens the API mints (signed with
EVENTS_TOKEN_SECRET for the gateway) never open the API; keys outside the JWKS never do.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from contracts import Role
from rita_auth import EventsTokens
from rita_testing.connections_api import Api
from rita_testing.oidc import OidcProvider, serving_jwks

ApiFactory = Callable[..., Awaitable[Api]]
EVENTS_SECRET = "events-token-secret-0123456789abcdef-oidc"


@pytest.fixture(scope="module")
def provider() -> OidcProvider:
    return OidcProvider()


@pytest.fixture(scope="module")
def jwks_url(provider: OidcProvider) -> Iterator[str]:
    with serving_jwks(provider) as url:
        yield url


@pytest.fixture
async def oidc_api(api_factory: ApiFactory, jwks_url: str, provider: OidcProvider) -> Api:
    return await api_factory(
        auth_jwt_secret=None,
        auth_jwks_url=jwks_url,
        auth_issuer=provider.issuer,
        auth_audience=provider.audience,
        events_token_secret=EVENTS_SECRET,
        auth_dev_mode=False,
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
async def test_provider_tokens_open_the_console_routes(
    oidc_api: Api, provider: OidcProvider, algorithm: str
) -> None:
    tenant = uuid.uuid4()
    admin = _bearer(provider.token(tenant, "admin", algorithm=algorithm))
    me = await oidc_api.client.get("/api/me", headers=admin)
    assert me.status_code == 200, me.text
    assert (me.json()["tenant_id"], me.json()["role"]) == (str(tenant), Role.ADMIN.value)
    listed = await oidc_api.client.get("/api/data-sources", headers=admin)
    assert listed.status_code == 200, listed.text
    jira = next(r for r in listed.json()["data"] if r["type"] == "jira_itsm")
    renamed = await oidc_api.client.patch(
        f"/api/data-sources/{jira['id']}", json={"name": "Ops Jira"}, headers=admin
    )
    assert renamed.status_code == 200, renamed.text
    member = _bearer(provider.token(tenant, "member", algorithm=algorithm))
    refused = await oidc_api.client.patch(
        f"/api/data-sources/{jira['id']}", json={"name": "x"}, headers=member
    )
    assert refused.status_code == 403


async def test_events_token_is_for_the_gateway_and_never_opens_the_api(
    oidc_api: Api, provider: OidcProvider
) -> None:
    tenant = uuid.uuid4()
    minted = await oidc_api.client.post(
        "/api/events/token", headers=_bearer(provider.token(tenant, "member"))
    )
    assert minted.status_code == 200, minted.text
    events_token = minted.json()["access_token"]
    # What the gateway does with it (same EVENTS_TOKEN_SECRET): the caller's tenant.
    assert EventsTokens(EVENTS_SECRET).verify(events_token).tenant_id == tenant
    answer = await oidc_api.client.get("/api/data-sources", headers=_bearer(events_token))
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"


async def test_tokens_the_provider_did_not_sign_are_refused(
    oidc_api: Api, provider: OidcProvider
) -> None:
    tenant = uuid.uuid4()
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = [
        provider.token(tenant, key=stranger),  # a key outside the JWKS, under a known kid
        provider.token(tenant, iss="https://evil.example.test/"),
        provider.token(tenant, aud="another-app"),
    ]
    for token in forged:
        answer = await oidc_api.client.get("/api/me", headers=_bearer(token))
        assert answer.status_code == 401, token
        assert token not in answer.text  # the token is never echoed
