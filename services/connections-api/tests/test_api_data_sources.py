"""List, seed, read and patch; auth, roles, tenant isolation, malformed ids, problem bodies."""

from __future__ import annotations

import uuid

import pytest

from contracts import Role
from rita_testing.connections_api import Api

CONNECTION_ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/api/data-sources/{id}", None),
    ("PATCH", "/api/data-sources/{id}", {"name": "x"}),
    ("POST", "/api/data-sources/{id}/verify", {"settings": {}, "credentials": {}}),
    ("POST", "/api/data-sources/{id}/sync-tickets", {"time_range_days": 30}),
    ("POST", "/api/data-sources/{id}/cancel-ingestion", None),
    ("GET", "/api/data-sources/{id}/ingestion-runs", None),
    ("GET", "/api/data-sources/{id}/ingestion-runs/latest", None),
]
MUTATIONS = [r for r in CONNECTION_ROUTES if r[0] != "GET"]


async def test_seed_is_idempotent_and_lists_in_console_order(api: Api, tenant: uuid.UUID) -> None:
    first = await api.seed(tenant)
    again = await api.seed(tenant)
    assert set(first) == {
        "confluence",
        "servicenow",
        "sharepoint",
        "websearch",
        "jira",
        "jira_itsm",
    }
    assert {k: v["id"] for k, v in first.items()} == {k: v["id"] for k, v in again.items()}
    itsm = await api.client.get(
        "/api/data-sources", params={"category": "itsm"}, headers=api.headers(tenant, Role.MEMBER)
    )
    assert itsm.status_code == 200
    assert [row["type"] for row in itsm.json()["data"]] == ["servicenow", "jira_itsm"]
    knowledge = await api.client.get(
        "/api/data-sources?category=knowledge", headers=api.headers(tenant, Role.MEMBER)
    )
    assert [row["type"] for row in knowledge.json()["data"]] == [
        "confluence",
        "sharepoint",
        "servicenow",
        "websearch",
        "jira",
    ]
    row = first["jira_itsm"]
    assert row["status"] == "idle"
    assert row["enabled"] is False
    assert row["version"] == 1
    assert row["tenant_id"] == str(tenant)


async def test_seed_publishes_new_rows_only(api: Api, tenant: uuid.UUID) -> None:
    await api.seed(tenant)
    await api.seed(tenant)
    entries = await api.stream(tenant)
    assert len(entries) == 6
    assert {e.event for e in entries} == {"data_source_update"}


async def test_list_rejects_unknown_category(api: Api, tenant: uuid.UUID) -> None:
    response = await api.client.get(
        "/api/data-sources?category=tickets", headers=api.headers(tenant)
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"


async def test_get_one_and_other_tenants_rows_are_not_found(api: Api, tenant: uuid.UUID) -> None:
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    mine = await api.client.get(f"/api/data-sources/{connection_id}", headers=api.headers(tenant))
    assert mine.status_code == 200
    assert mine.json()["id"] == connection_id
    other = await api.client.get(
        f"/api/data-sources/{connection_id}", headers=api.headers(uuid.uuid4())
    )
    assert other.status_code == 404
    assert other.json()["code"] == "not_found"


@pytest.mark.parametrize(("method", "path", "body"), CONNECTION_ROUTES)
async def test_tenant_isolation_on_every_route(
    api: Api, tenant: uuid.UUID, method: str, path: str, body: object
) -> None:
    rows = await api.seed(tenant)
    intruder = uuid.uuid4()
    await api.seed(intruder)
    for row in rows.values():
        response = await api.client.request(
            method, path.format(id=row["id"]), json=body, headers=api.headers(intruder)
        )
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["code"] == "not_found"
    listed = await api.client.get("/api/data-sources", headers=api.headers(intruder))
    assert not {r["id"] for r in listed.json()["data"]} & {r["id"] for r in rows.values()}


@pytest.mark.parametrize(("method", "path", "body"), MUTATIONS)
async def test_member_is_refused_on_every_mutation(
    api: Api, tenant: uuid.UUID, method: str, path: str, body: object
) -> None:
    rows = await api.seed(tenant)
    response = await api.client.request(
        method,
        path.format(id=rows["jira_itsm"]["id"]),
        json=body,
        headers=api.headers(tenant, Role.MEMBER),
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    unchanged = await api.client.get(
        f"/api/data-sources/{rows['jira_itsm']['id']}", headers=api.headers(tenant, Role.MEMBER)
    )
    assert unchanged.json()["version"] == 1


async def test_member_cannot_call_the_seed_endpoint(api: Api, tenant: uuid.UUID) -> None:
    response = await api.client.post(
        "/api/data-sources/seed", headers=api.headers(tenant, Role.MEMBER)
    )
    assert response.status_code == 403
    assert (
        await api.sql("SELECT id FROM data_source_connections WHERE tenant_id = $1", tenant) == []
    )


@pytest.mark.parametrize(("method", "path", "body"), CONNECTION_ROUTES)
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "1", "%00", "' OR 1=1 --", "a" * 300])
async def test_malformed_id_is_422_never_500(
    api: Api, method: str, path: str, body: object, bad_id: str
) -> None:
    response = await api.client.request(
        method, path.format(id=bad_id), json=body, headers=api.headers(uuid.uuid4())
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["loc"] == ["path", "connection_id"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer " + "e30.e30.e30"],
)
async def test_missing_or_bad_token_is_401(api: Api, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await api.client.get("/api/data-sources", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_events_token_is_not_an_api_token(api: Api, tenant: uuid.UUID) -> None:
    issued = await api.client.post("/api/events/token", headers=api.headers(tenant))
    token = issued.json()["access_token"]
    response = await api.client.get(
        "/api/data-sources", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401


async def test_unknown_route_is_problem_404(api: Api) -> None:
    response = await api.client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


async def test_patch_name_description_config_and_disable(api: Api, tenant: uuid.UUID) -> None:
    rows = await api.seed(tenant)
    connection_id = rows["confluence"]["id"]
    await api.sql(
        "UPDATE data_source_connections SET enabled = true WHERE id = $1", uuid.UUID(connection_id)
    )
    response = await api.client.patch(
        f"/api/data-sources/{connection_id}",
        json={"name": "Wiki", "description": None, "config": {"spaces": ["IT"]}, "enabled": False},
        headers=api.headers(tenant, sub="editor"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["description"], body["config"], body["enabled"]) == (
        "Wiki",
        None,
        {"spaces": ["IT"]},
        False,
    )
    assert body["version"] == 2
    assert body["updated_by"] == "editor"
    entries = await api.stream(tenant)
    assert entries[-1].event == "data_source_update"
    assert entries[-1].data["version"] == 2


async def test_patch_cannot_enable(api: Api, tenant: uuid.UUID) -> None:
    rows = await api.seed(tenant)
    response = await api.client.patch(
        f"/api/data-sources/{rows['jira_itsm']['id']}",
        json={"enabled": True},
        headers=api.headers(tenant),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "cannot_enable"


async def test_patch_settings_merges_and_revalidates(api: Api, tenant: uuid.UUID) -> None:
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    await api.enable(connection_id)
    response = await api.client.patch(
        f"/api/data-sources/{connection_id}",
        json={"settings": {"email": "new@example.com"}},
        headers=api.headers(tenant),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["settings"] == {
        "base_url": "https://acme.example.invalid",
        "email": "new@example.com",
    }
    # A changed site or account must be verified again.
    assert body["enabled"] is False
    bad = await api.client.patch(
        f"/api/data-sources/{connection_id}",
        json={"settings": {"email": "not-an-email", "extra": 1}},
        headers=api.headers(tenant),
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "validation_error"
    unsafe = await api.client.patch(
        f"/api/data-sources/{connection_id}",
        json={"settings": {"base_url": "https://127.0.0.1"}},
        headers=api.headers(tenant),
    )
    assert unsafe.status_code == 422
    assert unsafe.json()["code"] == "unsafe_url"


async def test_patch_without_changes_keeps_version(api: Api, tenant: uuid.UUID) -> None:
    rows = await api.seed(tenant)
    response = await api.client.patch(
        f"/api/data-sources/{rows['jira']['id']}",
        json={"name": rows["jira"]["name"]},
        headers=api.headers(tenant),
    )
    assert response.status_code == 200
    assert response.json()["version"] == 1


@pytest.mark.parametrize("url", ["https://wiki.example.com:99999", "https://[bad"])
async def test_patch_open_settings_with_a_malformed_url_is_422(
    api: Api, tenant: uuid.UUID, url: str
) -> None:
    # Types without a settings schema skip URL validation; the outbound policy must still 4xx.
    rows = await api.seed(tenant)
    response = await api.client.patch(
        f"/api/data-sources/{rows['confluence']['id']}",
        json={"settings": {"base_url": url}},
        headers=api.headers(tenant),
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "unsafe_url"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "a\u0000b"},
        {"description": "a\u0000b"},
        {"config": {"k": "a\u0000b"}},
        {"config": {"k\u0000": 1}},
        {"settings": {"space": "a\u0000b"}},
    ],
)
async def test_a_nul_character_is_422_never_500(
    api: Api, tenant: uuid.UUID, body: dict[str, object]
) -> None:
    # Valid JSON that PostgreSQL cannot store (text and jsonb refuse U+0000).
    rows = await api.seed(tenant)
    response = await api.client.patch(
        f"/api/data-sources/{rows['confluence']['id']}", json=body, headers=api.headers(tenant)
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert response.headers["content-type"] == "application/problem+json"
    again = await api.client.get(
        f"/api/data-sources/{rows['confluence']['id']}", headers=api.headers(tenant)
    )
    assert again.json()["version"] == rows["confluence"]["version"]
