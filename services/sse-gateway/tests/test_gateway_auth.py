"""Auth failures never open a stream; the tenant comes from the token only."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from contracts import EventName
from rita_testing import eventually
from rita_testing.sse import SseClient, SseServer
from sse_gateway.app import Gateway
from sse_gateway.config import load_settings

StartGateway = Callable[..., Awaitable[SseServer[Gateway]]]
Publish = Callable[[uuid.UUID, EventName, dict[str, Any]], Awaitable[str]]


async def _refused(client: SseClient, status: int) -> dict[str, object]:
    await eventually(lambda: client.finished)
    assert client.status == status
    assert not client.headers["content-type"].startswith("text/event-stream")
    assert client.events == []
    body: dict[str, object] = json.loads(bytes(client.body))
    return body


@pytest.mark.parametrize(
    "case",
    ["missing", "expired", "events_token_as_bearer", "api_token_in_query", "garbage", "basic"],
)
async def test_bad_credentials_get_401_and_no_stream(
    start_gateway: StartGateway,
    case: str,
    api_token: Callable[..., str],
    events_token: Callable[..., str],
) -> None:
    gw = await start_gateway()
    tenant = uuid.uuid4()
    headers: dict[str, str] = {}
    query = ""
    if case == "expired":
        headers["Authorization"] = f"Bearer {api_token(tenant, ttl=-60)}"
    elif case == "events_token_as_bearer":
        headers["Authorization"] = f"Bearer {events_token(tenant)}"
    elif case == "api_token_in_query":
        query = f"access_token={api_token(tenant)}"
    elif case == "garbage":
        headers["Authorization"] = "Bearer not-a-jwt"
    elif case == "basic":
        headers["Authorization"] = "Basic dXNlcjpwYXNz"
    client = await gw.connect(headers=headers, query=query)
    body = await _refused(client, 401)
    assert body["code"] == "unauthorized"
    assert client.headers["www-authenticate"] == "Bearer"
    assert gw.app.hub.count == 0


async def test_token_of_another_tenant_cannot_ask_for_this_tenant(
    start_gateway: StartGateway,
) -> None:
    gw = await start_gateway()
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    client = await gw.connect(theirs, query=f"tenant_id={mine}")
    body = await _refused(client, 403)
    assert body["code"] == "tenant_mismatch"


async def test_other_tenants_token_sees_none_of_this_tenants_events(
    start_gateway: StartGateway, publish: Publish, events_token: Callable[..., str]
) -> None:
    gw = await start_gateway()
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    spy = await gw.connect(theirs)
    owner = await gw.connect(mine)
    via_query = await gw.connect(query=f"access_token={events_token(mine)}")
    event_id = await publish(mine, EventName.DATA_SOURCE_UPDATE, {"secret": "row"})
    await eventually(lambda: owner.ids() == [event_id] and via_query.ids() == [event_id])
    marker = await publish(theirs, EventName.DATA_SOURCE_UPDATE, {"marker": 1})
    await eventually(lambda: spy.ids() == [marker])  # spy saw its own event, not mine


async def test_malformed_last_event_id_is_a_400(start_gateway: StartGateway) -> None:
    gw = await start_gateway()
    client = await gw.connect(uuid.uuid4(), headers={"Last-Event-ID": "not-an-id"})
    body = await _refused(client, 400)
    assert body["code"] == "invalid_last_event_id"


def _start_up_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> str:
    for name in ("AUTH_JWT_SECRET", "AUTH_JWKS_URL", "EVENTS_TOKEN_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    assert stopped.value.code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    return line


def test_missing_secret_stops_start_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _start_up_line(monkeypatch, capsys, {})
    assert line == (
        "sse-gateway: configuration error: AUTH_JWT_SECRET is required "
        "(or AUTH_JWKS_URL for an OIDC provider)"
    )


def test_jwks_only_without_events_token_secret_stops_start_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _start_up_line(monkeypatch, capsys, {"AUTH_JWKS_URL": "https://idp.test/jwks"})
    assert line.startswith(
        "sse-gateway: configuration error: EVENTS_TOKEN_SECRET is required when "
        "AUTH_JWT_SECRET is not set"
    )


async def test_events_tokens_are_checked_with_events_token_secret(
    start_gateway: StartGateway, events_token: Callable[..., str]
) -> None:
    own_key = "events-token-secret-for-the-gateway-test-0123"
    gw = await start_gateway(EVENTS_TOKEN_SECRET=own_key)
    tenant = uuid.uuid4()
    accepted = await gw.connect(query=f"access_token={events_token(tenant, secret=own_key)}")
    assert accepted.status == 200
    # Signed with AUTH_JWT_SECRET: no longer the events key once EVENTS_TOKEN_SECRET is set.
    refused = await gw.connect(query=f"access_token={events_token(tenant)}")
    body = await _refused(refused, 401)
    assert body["detail"] == "invalid token"
