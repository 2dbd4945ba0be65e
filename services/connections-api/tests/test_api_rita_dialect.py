"""`SYNC_WEBHOOK_DIALECT=rita`: the API drives a sync service written for Rita's API (issue 14).

A recording receiver on loopback checks the exact key names of every webhook; signing and
`Authorization` stay as in the standard dialect; no secret reaches a log, an error or a table.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from standardwebhooks import Webhook

from connections_api.dialect import Dialect, translate
from rita_testing.connections_api import (
    ENVELOPE_KEYS,
    WEBHOOK_AUTH,
    WEBHOOK_SECRET,
    Api,
    Receiver,
    eventually,
)

TOKEN = "ATATT-rita-dialect-token-0042"


def _sent(receiver: Receiver, connection_id: str, action: str) -> list[Any]:
    return [
        (json.loads(r.body), r)
        for r in receiver.for_connection(connection_id)
        if json.loads(r.body)["action"] == action
    ]


async def test_rita_dialect_sends_ritas_key_names_signed(
    api_factory: Any, receiver: Receiver, tenant: uuid.UUID
) -> None:
    api: Api = await api_factory(sync_webhook_dialect="rita")
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    verify = await api.verify(
        tenant,
        connection_id,
        {
            "settings": {"url": "https://acme.example.invalid", "email": "a@example.com"},
            "credentials": {"apiToken": TOKEN},
        },
        sub="alice",
    )
    assert verify.status_code == 202, verify.text
    # Stored with our names: the dialect is only the wire.
    assert verify.json()["settings"] == {
        "base_url": "https://acme.example.invalid",
        "email": "a@example.com",
    }
    [(body, request)] = _sent(receiver, connection_id, "verify_credentials")
    assert set(body) == ENVELOPE_KEYS | {"settings", "credentials", "verification_id"}
    assert body["source"] == "rita-chat"
    assert (body["tenant_id"], body["user_id"], body["user_email"]) == (
        str(tenant),
        "alice",
        "alice@example.com",
    )
    assert body["connection_type"] == "jira_itsm"
    assert body["settings"] == {"url": "https://acme.example.invalid", "email": "a@example.com"}
    assert body["credentials"] == {"apiToken": TOKEN}
    assert request.headers["authorization"] == WEBHOOK_AUTH
    Webhook(WEBHOOK_SECRET).verify(request.body, request.headers)

    await api.sql(
        "UPDATE data_source_connections SET status = 'idle', enabled = true,"
        ' latest_options = \'{"projects": [{"key": "IT", "name": "IT"}]}\'::jsonb'
        " WHERE id = $1",
        uuid.UUID(connection_id),
    )
    scoped = await api.client.patch(
        f"/api/data-sources/{connection_id}",
        json={"config": {"project_keys": ["IT"]}},
        headers=api.headers(tenant),
    )
    assert scoped.status_code == 200, scoped.text
    run = (await api.act(tenant, connection_id, "sync-tickets", {"time_range_days": 90})).json()

    async def started() -> bool:
        return bool(_sent(receiver, connection_id, "sync_tickets"))

    await eventually(started)
    cancel = await api.client.post(
        f"/api/data-sources/{connection_id}/cancel-ingestion", headers=api.headers(tenant)
    )
    assert cancel.status_code == 202

    async def cancelled() -> bool:
        return bool(_sent(receiver, connection_id, "cancel_ingestion"))

    await eventually(cancelled)
    [(sync, sync_request)] = _sent(receiver, connection_id, "sync_tickets")
    assert set(sync) == ENVELOPE_KEYS | {"settings", "ingestion_run_id"}
    assert sync["settings"] == {
        "url": "https://acme.example.invalid",
        "email": "a@example.com",
        "project_keys": ["IT"],
        "time_range_days": 90,
    }
    assert sync["ingestion_run_id"] == run["id"]
    assert sync_request.headers["authorization"] == WEBHOOK_AUTH
    Webhook(WEBHOOK_SECRET).verify(sync_request.body, sync_request.headers)
    [(stop, _)] = _sent(receiver, connection_id, "cancel_ingestion")
    assert set(stop) == ENVELOPE_KEYS | {"settings", "ingestion_run_id"}
    assert stop["settings"] == {"url": "https://acme.example.invalid", "email": "a@example.com"}
    # The outbox keeps the standard payload: the dialect is applied as each webhook leaves.
    stored = await api.sql(
        "SELECT payload FROM webhook_outbox WHERE ingestion_run_id = $1 ORDER BY id",
        uuid.UUID(run["id"]),
    )
    assert json.loads(stored[0]["payload"])["settings"]["base_url"] == (
        "https://acme.example.invalid"
    )


def test_types_without_known_rita_names_and_the_standard_dialect_are_unchanged() -> None:
    servicenow = {
        "action": "verify_credentials",
        "connection_type": "servicenow",
        "settings": {"instance_url": "https://acme.service-now.com", "username": "svc"},
        "credentials": {"username": "svc", "password": "pw"},
    }
    assert translate(servicenow, Dialect.RITA) == servicenow
    jira = {
        "action": "verify_credentials",
        "connection_type": "jira_itsm",
        "settings": {"base_url": "https://a.example", "email": "a@example.com"},
        "credentials": {"email": "a@example.com", "api_token": "t"},
    }
    assert translate(jira, Dialect.STANDARD) == jira
    assert translate(jira, Dialect.RITA)["credentials"] == {"apiToken": "t"}
    assert jira["credentials"] == {"email": "a@example.com", "api_token": "t"}  # not mutated


@pytest.mark.parametrize("dialect", ["standard", "rita"])
async def test_no_secret_in_logs_errors_or_tables_in_either_dialect(
    json_logs: None,
    api_factory: Any,
    receiver: Receiver,
    tenant: uuid.UUID,
    capsys: pytest.CaptureFixture[str],
    dialect: str,
) -> None:
    api: Api = await api_factory(sync_webhook_dialect=dialect)
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    good = {
        "settings": {"url": "https://acme.example.invalid", "email": "a@example.com"},
        "credentials": {"apiToken": TOKEN},
    }
    answers = []
    answers.append(await api.verify(tenant, connection_id, good))
    receiver.fail_next, receiver.fail_status = 10, 500  # retried, then undeliverable (502)
    answers.append(await api.verify(tenant, connection_id, good))
    receiver.fail_next, receiver.fail_status = 1, 401  # refused at once (502)
    answers.append(await api.verify(tenant, connection_id, good))
    bad = {"settings": {**good["settings"], "apiToken": TOKEN}, "credentials": {"x": TOKEN}}
    answers.append(await api.verify(tenant, connection_id, bad))
    assert [a.status_code for a in answers] == [202, 502, 502, 422]
    assert any(TOKEN.encode() in r.body for r in receiver.requests)  # it did leave, there
    assert not any(TOKEN in a.text for a in answers)
    captured = capsys.readouterr()
    logged = captured.out + captured.err
    assert "webhook_undeliverable" in logged  # the failures were logged
    assert TOKEN not in logged
    leaked = await api.sql(
        "SELECT count(*) AS n FROM data_source_connections"
        " WHERE tenant_id = $1 AND (settings::text LIKE $2 OR config::text LIKE $2"
        " OR coalesce(last_verification_error, '') LIKE $2)",
        tenant,
        f"%{TOKEN}%",
    )
    assert leaked[0]["n"] == 0
    events = await api.stream(tenant)
    assert len(events) >= 6 + 3  # seeded rows, then each verify's change
    assert TOKEN not in repr(events)
