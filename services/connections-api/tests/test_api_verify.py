"""Verify: validation, the signed webhook, retries, an unreachable receiver, no token anywhere."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from standardwebhooks import Webhook

from contracts import Role, parse_webhook
from rita_testing.connections_api import (
    ENVELOPE_KEYS,
    WEBHOOK_AUTH,
    WEBHOOK_SECRET,
    Api,
    Receiver,
    free_port_url,
)

TOKEN = "ATATT3xFfGF0-super-secret-api-token-4242"
JIRA = {"base_url": "https://acme.example.invalid/", "email": "admin@example.com"}
CREDS = {"email": "admin@example.com", "api_token": TOKEN}


async def _verify(api: Api, tenant: uuid.UUID, connection_id: str, **body: Any) -> Any:
    payload = {"settings": JIRA, "credentials": CREDS, **body}
    return await api.verify(tenant, connection_id, payload, sub="alice")


async def test_verify_sends_the_contract_webhook_signed(
    api: Api, receiver: Receiver, tenant: uuid.UUID
) -> None:
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    response = await _verify(api, tenant, connection_id)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "verifying"
    assert body["settings"] == {"base_url": "https://acme.example.invalid", "email": JIRA["email"]}
    assert body["updated_by"] == "alice"
    [request] = receiver.for_connection(connection_id)
    payload = json.loads(request.body)
    assert set(payload) == ENVELOPE_KEYS | {"credentials", "settings", "verification_id"}
    [stored] = await api.sql(
        "SELECT verification_id, verification_started_at FROM data_source_connections"
        " WHERE id = $1",
        uuid.UUID(connection_id),
    )
    assert payload["verification_id"] == str(stored["verification_id"])
    assert stored["verification_started_at"] is not None
    assert payload["source"] == "rita-chat"
    assert payload["action"] == "verify_credentials"
    assert payload["tenant_id"] == str(tenant)
    assert payload["user_id"] == "alice"
    assert payload["user_email"] == "alice@example.com"
    assert payload["connection_type"] == "jira_itsm"
    assert payload["credentials"] == CREDS
    assert payload["settings"] == body["settings"]
    assert parse_webhook(request.body).action == "verify_credentials"
    assert request.headers["authorization"] == WEBHOOK_AUTH
    Webhook(WEBHOOK_SECRET).verify(request.body, request.headers)


async def test_verify_retries_a_5xx_then_succeeds(
    api: Api, receiver: Receiver, tenant: uuid.UUID
) -> None:
    rows = await api.seed(tenant)
    receiver.fail_next = 2
    response = await _verify(api, tenant, rows["jira_itsm"]["id"])
    assert response.status_code == 202
    requests = receiver.for_connection(rows["jira_itsm"]["id"])
    assert len(requests) == 3
    assert len({r.headers["webhook-id"] for r in requests}) == 1


async def test_receiver_down_gives_502_and_connection_back_to_idle(
    api_factory: Any, tenant: uuid.UUID
) -> None:
    api: Api = await api_factory(sync_webhook_url=free_port_url(), verify_webhook_max_seconds=2)
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    response = await _verify(api, tenant, connection_id)
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "sync_service_unavailable"
    assert TOKEN not in response.text
    row = (
        await api.client.get(f"/api/data-sources/{connection_id}", headers=api.headers(tenant))
    ).json()
    assert row["status"] == "idle"
    assert row["last_verification_error"] == "Could not reach the sync service; try again"
    assert row["last_verification_error_code"] == "unreachable"
    assert row["last_verification_at"] is not None
    assert row["version"] == 3
    events = [e.data["status"] for e in await api.stream(tenant) if e.data["id"] == connection_id]
    assert events[-2:] == ["verifying", "idle"]


async def test_a_4xx_from_the_receiver_is_not_retried(
    api: Api, receiver: Receiver, tenant: uuid.UUID
) -> None:
    rows = await api.seed(tenant)
    receiver.fail_next, receiver.fail_status = 5, 401
    response = await _verify(api, tenant, rows["jira_itsm"]["id"])
    assert response.status_code == 502
    assert len(receiver.for_connection(rows["jira_itsm"]["id"])) == 1


@pytest.mark.parametrize(
    ("settings", "credentials"),
    [
        ({"base_url": "not a url", "email": "a@example.com"}, CREDS),
        ({"base_url": "https://acme.example.invalid"}, CREDS),
        (JIRA, {"email": "admin@example.com"}),
        (JIRA, {"email": "nope", "api_token": TOKEN}),
        (JIRA, {**CREDS, "api_token": ""}),
        ({**JIRA, "password": TOKEN}, CREDS),
        (JIRA, {**CREDS, "extra": TOKEN}),
    ],
)
async def test_invalid_settings_or_credentials_are_422_without_echo(
    api: Api, receiver: Receiver, tenant: uuid.UUID, settings: Any, credentials: Any
) -> None:
    rows = await api.seed(tenant)
    response = await _verify(
        api, tenant, rows["jira_itsm"]["id"], settings=settings, credentials=credentials
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert TOKEN not in response.text
    assert receiver.for_connection(rows["jira_itsm"]["id"]) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://acme.example.com",
        "https://127.0.0.1",
        "https://10.0.0.8",
        "https://169.254.169.254/latest",
        "https://[::1]:8443",
        "https://localhost",
    ],
)
async def test_unsafe_site_urls_are_refused(api: Api, tenant: uuid.UUID, url: str) -> None:
    rows = await api.seed(tenant)
    response = await _verify(
        api, tenant, rows["jira_itsm"]["id"], settings={"base_url": url, "email": "a@example.com"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "unsafe_url"


@pytest.mark.parametrize("variable", ["allowed_private_hosts", "jira_allowed_private_hosts"])
async def test_allowed_private_host_is_accepted(
    api_factory: Any, receiver: Receiver, tenant: uuid.UUID, variable: str
) -> None:
    # Both names are read and merged (ALLOWED_PRIVATE_HOSTS, the first wave's JIRA_ one).
    other = (
        "jira_allowed_private_hosts"
        if variable == "allowed_private_hosts"
        else "allowed_private_hosts"
    )
    api: Api = await api_factory(**{variable: "127.0.0.1:8004", other: "127.0.0.1:8005"})
    rows = await api.seed(tenant)
    response = await _verify(
        api,
        tenant,
        rows["jira_itsm"]["id"],
        settings={"url": "http://127.0.0.1:8004", "email": "a@example.com"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["settings"]["base_url"] == "http://127.0.0.1:8004"
    servicenow = await _verify(
        api,
        tenant,
        rows["servicenow"]["id"],
        settings={"instance_url": "http://127.0.0.1:8005/", "username": "admin"},
        credentials={"username": "admin", "password": "pw"},
    )
    assert servicenow.status_code == 202, servicenow.text
    assert servicenow.json()["settings"]["instance_url"] == "http://127.0.0.1:8005"
    refused = await _verify(
        api,
        tenant,
        rows["servicenow"]["id"],
        settings={"instance_url": "http://127.0.0.1:8006", "username": "admin"},
        credentials={"username": "admin", "password": "pw"},
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "unsafe_url")


async def test_types_without_credentials_are_400(api: Api, tenant: uuid.UUID) -> None:
    rows = await api.seed(tenant)
    response = await _verify(api, tenant, rows["confluence"]["id"])
    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_type"


async def test_servicenow_verify(api: Api, receiver: Receiver, tenant: uuid.UUID) -> None:
    rows = await api.seed(tenant)
    response = await _verify(
        api,
        tenant,
        rows["servicenow"]["id"],
        settings={"instance_url": "https://acme.service-now.example.invalid", "username": "svc"},
        credentials={"username": "svc", "password": TOKEN},
    )
    assert response.status_code == 202, response.text
    [request] = receiver.for_connection(rows["servicenow"]["id"])
    assert json.loads(request.body)["credentials"]["password"] == TOKEN


async def test_verify_while_syncing_is_409(api: Api, tenant: uuid.UUID) -> None:
    rows = await api.seed(tenant)
    await api.sql(
        "UPDATE data_source_connections SET status = 'syncing' WHERE id = $1",
        uuid.UUID(rows["jira_itsm"]["id"]),
    )
    response = await _verify(api, tenant, rows["jira_itsm"]["id"])
    assert response.status_code == 409
    assert response.json()["code"] == "sync_in_progress"


async def _text_values(api: Api) -> list[str]:
    columns = await api.sql(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'public'"
        " AND data_type IN ('text', 'character varying', 'jsonb', 'json')"
    )
    values: list[str] = []
    for column in columns:
        rows = await api.sql(
            f'SELECT "{column["column_name"]}"::text AS v FROM "{column["table_name"]}"'  # noqa: S608
        )
        values.extend(str(r["v"]) for r in rows if r["v"] is not None)
    return values


async def test_api_token_is_absent_from_tables_logs_outbox_and_events(
    json_logs: None,
    api_factory: Any,
    receiver: Receiver,
    tenant: uuid.UUID,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api: Api = await api_factory()
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    assert (await _verify(api, tenant, connection_id)).status_code == 202
    receiver.fail_next, receiver.fail_status = 10, 500
    assert (await _verify(api, tenant, connection_id)).status_code == 502
    assert (await _verify(api, tenant, connection_id, settings={"x": TOKEN})).status_code == 422
    await api.enable(connection_id)
    receiver.fail_next = 0
    sync = await api.act(tenant, connection_id, "sync-tickets")
    assert sync.status_code == 202
    assert any(TOKEN.encode() in r.body for r in receiver.requests)  # it did leave, once, there
    assert not any(TOKEN in value for value in await _text_values(api))
    # This test's rows only: other tests' rows in the shared database prove nothing here.
    outbox = await api.sql(
        "SELECT action, payload::text AS p FROM webhook_outbox WHERE tenant_id = $1", tenant
    )
    assert [r["action"] for r in outbox] == ["sync_tickets"]
    assert json.loads(outbox[0]["p"])["ingestion_run_id"] == sync.json()["id"]
    assert not any(TOKEN in r["p"] for r in outbox)
    stream = await api.redis.xrange(f"{api.settings.events_key_prefix}{tenant}")
    assert stream
    assert TOKEN.encode() not in repr(stream).encode()
    metrics = await api.client.get("/metrics")
    assert TOKEN not in metrics.text
    captured = capsys.readouterr()
    logged = captured.out + captured.err
    assert "webhook_delivered" in logged  # the logs were captured
    assert TOKEN not in logged


async def test_member_gets_403_before_any_validation(api: Api, tenant: uuid.UUID) -> None:
    rows = await api.seed(tenant)
    response = await api.verify(
        tenant, rows["jira_itsm"]["id"], {"settings": JIRA, "credentials": CREDS}, role=Role.MEMBER
    )
    assert response.status_code == 403


async def test_an_unexpected_send_error_still_returns_the_connection_to_idle(
    api_factory: Any, tenant: uuid.UUID
) -> None:
    """A webhook URL httpx cannot even build used to leave the connection `verifying` for good."""
    api: Api = await api_factory(sync_webhook_url="http://sync service.invalid/webhook")
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    response = await _verify(api, tenant, connection_id)
    assert response.status_code == 502
    assert response.json()["code"] == "sync_service_unavailable"
    assert TOKEN not in response.text
    row = (
        await api.client.get(f"/api/data-sources/{connection_id}", headers=api.headers(tenant))
    ).json()
    assert row["status"] == "idle"
    assert row["last_verification_error"] == "Could not reach the sync service; try again"


async def test_a_failure_of_our_own_while_sending_still_returns_the_connection_to_idle(
    api: Api, tenant: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug in the sender")

    monkeypatch.setattr(api.state.sender, "send_verify", broken)
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    response = await _verify(api, tenant, connection_id)
    assert response.status_code == 502
    row = (
        await api.client.get(f"/api/data-sources/{connection_id}", headers=api.headers(tenant))
    ).json()
    assert row["status"] == "idle"
