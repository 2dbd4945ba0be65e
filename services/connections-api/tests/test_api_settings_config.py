"""Per-type `settings` and `config` (import scope), the size cap, and Rita's input names."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from rita_testing.connections_api import Api, Receiver, eventually

TOKEN = "ATATT-settings-config-token-7777"
JIRA_OPTIONS = {"projects": [{"key": "IT", "name": "IT"}, {"key": "OPS", "name": "Ops"}]}
SERVICENOW_OPTIONS = {
    "assignment_groups": [{"id": "g-1", "name": "Service Desk"}, {"id": "g-2", "name": "Net"}],
    "incident_count": 12,
}


async def _options(api: Api, connection_id: str, options: Any) -> None:
    """What a successful verification leaves (the consumer's job, not the API's)."""
    await api.sql(
        "UPDATE data_source_connections SET enabled = true, latest_options = $2::jsonb"
        " WHERE id = $1",
        uuid.UUID(connection_id),
        json.dumps(options),
    )


async def _patch(api: Api, tenant: uuid.UUID, connection_id: str, body: Any) -> Any:
    return await api.client.patch(
        f"/api/data-sources/{connection_id}", json=body, headers=api.headers(tenant)
    )


async def _stored_config(api: Api, connection_id: str) -> Any:
    [row] = await api.sql(
        "SELECT config FROM data_source_connections WHERE id = $1", uuid.UUID(connection_id)
    )
    return json.loads(row["config"])


async def _sync_settings(
    api: Api, receiver: Receiver, tenant: uuid.UUID, connection_id: str
) -> dict[str, Any]:
    response = await api.act(tenant, connection_id, "sync-tickets", {"time_range_days": 7})
    assert response.status_code == 202, response.text

    async def sent() -> bool:
        return bool(receiver.for_connection(connection_id))

    await eventually(sent)
    settings: dict[str, Any] = json.loads(receiver.for_connection(connection_id)[0].body)[
        "settings"
    ]
    return settings


async def test_jira_scope_is_stored_and_sent_in_the_sync_webhook(
    api: Api, receiver: Receiver, tenant: uuid.UUID
) -> None:
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    await api.enable(connection_id)
    await _options(api, connection_id, JIRA_OPTIONS)
    response = await _patch(api, tenant, connection_id, {"config": {"project_keys": ["OPS"]}})
    assert response.status_code == 200, response.text
    assert response.json()["config"] == {"project_keys": ["OPS"]}
    settings = await _sync_settings(api, receiver, tenant, connection_id)
    assert settings == {
        "base_url": "https://acme.example.invalid",
        "email": "a@example.com",
        "project_keys": ["OPS"],
        "time_range_days": 7,
    }


async def test_servicenow_scope_is_stored_and_sent_in_the_sync_webhook(
    api: Api, receiver: Receiver, tenant: uuid.UUID
) -> None:
    rows = await api.seed(tenant)
    connection_id = rows["servicenow"]["id"]
    await _options(api, connection_id, SERVICENOW_OPTIONS)
    body = {"config": {"assignment_group_ids": ["g-2", "g-1", "g-2"]}}
    response = await _patch(api, tenant, connection_id, body)
    assert response.status_code == 200, response.text
    assert response.json()["config"] == {"assignment_group_ids": ["g-2", "g-1"]}
    settings = await _sync_settings(api, receiver, tenant, connection_id)
    assert settings["assignment_group_ids"] == ["g-2", "g-1"]


async def test_rita_array_options_name_the_jira_projects(api: Api, tenant: uuid.UUID) -> None:
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    await _options(api, connection_id, [{"key": "IT", "name": "IT Support"}])
    ok = await _patch(api, tenant, connection_id, {"config": {"project_keys": ["IT"]}})
    assert ok.status_code == 200, ok.text


async def test_an_empty_scope_means_everything_and_sends_no_scope(
    api: Api, receiver: Receiver, tenant: uuid.UUID
) -> None:
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    await api.enable(connection_id)
    await _options(api, connection_id, JIRA_OPTIONS)
    await _patch(api, tenant, connection_id, {"config": {"project_keys": ["IT"]}})
    cleared = await _patch(api, tenant, connection_id, {"config": {"project_keys": []}})
    assert cleared.json()["config"] == {}
    settings = await _sync_settings(api, receiver, tenant, connection_id)
    assert "project_keys" not in settings


@pytest.mark.parametrize(
    ("kind", "options", "config", "loc", "error_type"),
    [
        # An id the last verification did not return.
        (
            "jira_itsm",
            JIRA_OPTIONS,
            {"project_keys": ["IT", "SECRET"]},
            ["body", "config", "project_keys", "1"],
            "unknown_id",
        ),
        # Never verified: no id is known yet.
        (
            "jira_itsm",
            None,
            {"project_keys": ["IT"]},
            ["body", "config", "project_keys", "0"],
            None,
        ),
        (
            "servicenow",
            SERVICENOW_OPTIONS,
            {"assignment_group_ids": ["g-9"]},
            ["body", "config", "assignment_group_ids", "0"],
            "unknown_id",
        ),
        # Unknown keys are refused.
        ("jira_itsm", JIRA_OPTIONS, {"projects": ["IT"]}, ["body", "config", "projects"], None),
        (
            "servicenow",
            SERVICENOW_OPTIONS,
            {"project_keys": ["IT"]},
            ["body", "config", "project_keys"],
            "extra_forbidden",
        ),
        # Wrong shapes and bounds.
        (
            "jira_itsm",
            JIRA_OPTIONS,
            {"project_keys": "IT"},
            ["body", "config", "project_keys"],
            None,
        ),
        (
            "jira_itsm",
            JIRA_OPTIONS,
            {"project_keys": [""]},
            ["body", "config", "project_keys", "0"],
            None,
        ),
        (
            "jira_itsm",
            JIRA_OPTIONS,
            {"project_keys": [f"K{i}" for i in range(1001)]},
            ["body", "config", "project_keys"],
            "too_long",
        ),
        # Over 16 KiB, on a type whose config is otherwise open.
        ("confluence", None, {"blob": "x" * 17_000}, ["body", "config"], "too_large"),
    ],
)
async def test_invalid_config_is_422_with_its_location_and_nothing_stored(
    api: Api,
    tenant: uuid.UUID,
    kind: str,
    options: Any,
    config: Any,
    loc: list[str],
    error_type: str | None,
) -> None:
    rows = await api.seed(tenant)
    connection_id = rows[kind]["id"]
    if options is not None:
        await _options(api, connection_id, options)
    response = await _patch(api, tenant, connection_id, {"config": config})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert [str(part) for part in problem["errors"][0]["loc"]] == loc
    if error_type:
        assert problem["errors"][0]["type"] == error_type
    assert "SECRET" not in response.text
    assert await _stored_config(api, connection_id) == {}


async def test_oversized_settings_are_422(api: Api, tenant: uuid.UUID) -> None:
    rows = await api.seed(tenant)
    response = await _patch(
        api, tenant, rows["websearch"]["id"], {"settings": {"note": "y" * 17_000}}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "settings"]


async def test_rita_input_names_are_accepted_on_verify(
    api: Api, receiver: Receiver, tenant: uuid.UUID
) -> None:
    """Rita's console: `settings {url, email}`, `credentials {apiToken}` (email only once)."""
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    response = await api.verify(
        tenant,
        connection_id,
        {
            "settings": {"url": "https://acme.example.invalid/", "email": "a@example.com"},
            "credentials": {"apiToken": TOKEN},
        },
    )
    assert response.status_code == 202, response.text
    assert response.json()["settings"] == {
        "base_url": "https://acme.example.invalid",
        "email": "a@example.com",
    }
    [request] = receiver.for_connection(connection_id)
    assert json.loads(request.body)["credentials"] == {"email": "a@example.com", "api_token": TOKEN}


async def test_rita_url_name_on_patch_replaces_the_stored_base_url(
    api: Api, tenant: uuid.UUID
) -> None:
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    await api.enable(connection_id)
    response = await _patch(
        api, tenant, connection_id, {"settings": {"url": "https://other.example.invalid"}}
    )
    assert response.status_code == 200, response.text
    assert response.json()["settings"] == {
        "base_url": "https://other.example.invalid",
        "email": "a@example.com",
    }
    assert response.json()["enabled"] is False  # another site: verify again


@pytest.mark.parametrize(
    "given",
    [
        "https://acme.service-now.example.invalid",
        "https://acme.service-now.example.invalid/",
        "https://ACME.service-now.example.invalid/now/nav/ui/home?x=1",
        " https://acme.service-now.example.invalid:443/api/now ",
    ],
)
async def test_servicenow_instance_url_is_stored_as_the_instance_base(
    api: Api, receiver: Receiver, tenant: uuid.UUID, given: str
) -> None:
    rows = await api.seed(tenant)
    connection_id = rows["servicenow"]["id"]
    response = await api.verify(
        tenant,
        connection_id,
        {
            "settings": {"instance_url": given, "username": "svc"},
            "credentials": {"password": TOKEN},  # the user name comes from the settings
        },
    )
    assert response.status_code == 202, response.text
    assert response.json()["settings"] == {
        "instance_url": "https://acme.service-now.example.invalid",
        "username": "svc",
    }
    [request] = receiver.for_connection(connection_id)
    assert json.loads(request.body)["credentials"] == {"username": "svc", "password": TOKEN}


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://127.0.0.1/", "unsafe_url"),
        ("http://acme.service-now.example.invalid", "unsafe_url"),
        ("https://[64:ff9b::7f00:1]", "unsafe_url"),
        ("ftp://acme.service-now.example.invalid", "validation_error"),
        ("not a url", "validation_error"),
    ],
)
async def test_servicenow_instance_url_follows_the_url_policy(
    api: Api, tenant: uuid.UUID, url: str, code: str
) -> None:
    rows = await api.seed(tenant)
    response = await api.verify(
        tenant,
        rows["servicenow"]["id"],
        {
            "settings": {"instance_url": url, "username": "svc"},
            "credentials": {"username": "svc", "password": TOKEN},
        },
    )
    assert (response.status_code, response.json()["code"]) == (422, code)
    assert TOKEN not in response.text
