"""Events and dev tokens, health and metrics, and start-up configuration errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from typing import Any

import jwt
import pytest

from connections_api.devtoken import DEV_TENANT_ID
from contracts import EVENTS_TOKEN_AUDIENCE, Role
from rita_auth import EventsTokens, JwtVerifier
from rita_testing.connections_api import JWT_SECRET, Api


async def test_events_token_has_its_own_audience_and_short_life(
    api: Api, tenant: uuid.UUID
) -> None:
    response = await api.client.post(
        "/api/events/token", headers=api.headers(tenant, Role.MEMBER, sub="m")
    )
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] <= 120
    claims = jwt.decode(
        body["access_token"], JWT_SECRET, algorithms=["HS256"], audience=EVENTS_TOKEN_AUDIENCE
    )
    assert claims["tenant_id"] == str(tenant)
    assert claims["sub"] == "m"
    assert claims["exp"] - time.time() <= 121
    principal = EventsTokens(JWT_SECRET).verify(body["access_token"])
    assert principal.tenant_id == tenant
    assert (await api.client.post("/api/events/token")).status_code == 401


async def test_events_tokens_are_signed_with_events_token_secret_when_set(
    api_factory: Any, tenant: uuid.UUID
) -> None:
    events_key = "events-key-0123456789abcdef0123456789abcdef"
    api: Api = await api_factory(events_token_secret=events_key)
    response = await api.client.post("/api/events/token", headers=api.headers(tenant))
    assert response.status_code == 200
    token = response.json()["access_token"]
    claims = jwt.decode(token, events_key, algorithms=["HS256"], audience=EVENTS_TOKEN_AUDIENCE)
    assert claims["tenant_id"] == str(tenant)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, JWT_SECRET, algorithms=["HS256"], audience=EVENTS_TOKEN_AUDIENCE)


async def test_dev_token_defaults_and_overrides(api: Api) -> None:
    default = await api.client.post("/api/dev/token")
    assert default.status_code == 200
    principal = JwtVerifier(secret=JWT_SECRET).verify(default.json()["access_token"])
    assert (principal.tenant_id, principal.role) == (DEV_TENANT_ID, Role.ADMIN)
    tenant = uuid.uuid4()
    custom = await api.client.post(
        "/api/dev/token", json={"tenant_id": str(tenant), "role": "member", "sub": "x"}
    )
    principal = JwtVerifier(secret=JWT_SECRET).verify(custom.json()["access_token"])
    assert (principal.tenant_id, principal.role, principal.sub) == (tenant, Role.MEMBER, "x")
    listed = await api.client.get(
        "/api/data-sources",
        headers={"Authorization": f"Bearer {custom.json()['access_token']}"},
    )
    assert listed.status_code == 200
    bad = await api.client.post("/api/dev/token", json={"role": "root"})
    assert bad.status_code == 422


async def test_dev_token_is_absent_without_dev_mode(api_factory: Any) -> None:
    api: Api = await api_factory(auth_dev_mode=False)
    response = await api.client.post("/api/dev/token")
    assert response.status_code == 404
    assert "/api/dev/token" not in (await api.client.get("/openapi.json")).json()["paths"]


def _sample(metrics: str, series: str) -> float:
    """One sample of the exposition (0 when the series has none yet)."""
    for line in metrics.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_health_ready_and_metrics(api: Api, tenant: uuid.UUID) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200
    series = 'connections_api_requests_total{method="GET",route="/api/data-sources",status="200"}'
    refused = 'connections_api_requests_total{method="GET",route="/api/data-sources",status="401"}'
    before = (await api.client.get("/metrics")).text
    for _ in range(3):
        await api.client.get("/api/data-sources", headers=api.headers(tenant))
    await api.client.get("/api/data-sources")
    after = (await api.client.get("/metrics")).text
    # prometheus_client prints HELP/TYPE for every registered metric: count the samples instead.
    assert _sample(after, series) - _sample(before, series) == 3
    assert _sample(after, refused) - _sample(before, refused) == 1


async def test_not_ready_when_redis_is_unreachable(api_factory: Any) -> None:
    api: Api = await api_factory(redis_url="redis://127.0.0.1:1/0")
    ready = await api.client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["code"] == "not_ready"
    assert "redis" in ready.json()["detail"]


async def test_operation_ids_are_tag_name(api: Api) -> None:
    paths = (await api.client.get("/openapi.json")).json()["paths"]
    ids = {op["operationId"] for item in paths.values() for op in item.values()}
    assert "data-sources-list_data_sources" in ids
    assert "data-sources-verify_data_source" in ids
    assert "events-create_events_token" in ids


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "AUTH_JWT_SECRET is required (or AUTH_JWKS_URL for an OIDC provider)"),
        ({"AUTH_JWT_SECRET": "s" * 32}, "SYNC_WEBHOOK_SECRET is required"),
        (
            {"AUTH_JWT_SECRET": "s" * 32, "SYNC_WEBHOOK_SECRET": "plain"},
            "SYNC_WEBHOOK_SECRET must be a Standard Webhooks secret",
        ),
        (
            {"AUTH_JWKS_URL": "http://127.0.0.1:9/jwks.json", "SYNC_WEBHOOK_SECRET": "whsec_x"},
            "EVENTS_TOKEN_SECRET is required when AUTH_JWT_SECRET is not set",
        ),
        (
            {"AUTH_JWT_SECRET": "s" * 32, "EVENTS_TOKEN_SECRET": "short"},
            "EVENTS_TOKEN_SECRET must be at least 32 characters",
        ),
    ],
)
def test_missing_configuration_stops_with_one_line(env: dict[str, str], expected: str) -> None:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AUTH_", "SYNC_WEBHOOK", "EVENTS_TOKEN"))
    }
    result = subprocess.run(
        [sys.executable, "-c", "from connections_api.main import main; main()"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
