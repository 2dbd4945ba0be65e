"""The list endpoint: fresh after writes behind the API, the documented model's JSON."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from contracts import ConnectionsPublic, Role, tenant_events_key
from rita_testing import eventually
from rita_testing.connections_api import Api

ApiFactory = Callable[..., Awaitable[Api]]


async def test_list_sees_a_write_made_behind_the_api(api: Api, tenant: uuid.UUID) -> None:
    # The status consumer changes rows in its own process: the list shows it once PostgreSQL's
    # change notice reached the API (test_api_list_cache.py covers the kept pages themselves).
    rows = await api.seed(tenant)
    headers = api.headers(tenant, Role.MEMBER)
    before = (await api.client.get("/api/data-sources", headers=headers)).json()
    await api.sql(
        "UPDATE data_source_connections SET status = 'verifying', version = version + 1,"
        " updated_at = now() WHERE id = $1 AND tenant_id = $2",
        uuid.UUID(rows["jira_itsm"]["id"]),
        tenant,
    )
    after: dict[str, Any] = {}

    async def listed_verifying() -> bool:
        after.update((await api.client.get("/api/data-sources", headers=headers)).json())
        return any(r["status"] == "verifying" for r in after["data"])

    await eventually(listed_verifying, what="the write behind the API is listed")
    jira_before = next(r for r in before["data"] if r["type"] == "jira_itsm")
    jira_after = next(r for r in after["data"] if r["type"] == "jira_itsm")
    assert (jira_before["status"], jira_after["status"]) == ("idle", "verifying")
    assert jira_after["version"] == jira_before["version"] + 1
    ConnectionsPublic.model_validate(after)  # still the documented shape


async def test_list_body_is_json_of_the_documented_model(api: Api, tenant: uuid.UUID) -> None:
    await api.seed(tenant)
    response = await api.client.get("/api/data-sources", headers=api.headers(tenant))
    assert response.headers["content-type"] == "application/json"
    page = ConnectionsPublic.model_validate_json(response.content)
    assert page.count == len(page.data) == len(json.loads(response.content)["data"])
    schema = (await api.client.get("/openapi.json")).json()
    ok = schema["paths"]["/api/data-sources"]["get"]["responses"]["200"]["content"]
    assert ok["application/json"]["schema"] == {"$ref": "#/components/schemas/ConnectionsPublic"}


async def test_rest_and_event_carry_byte_identical_json_for_a_row(
    api: Api, tenant: uuid.UUID
) -> None:
    # Issue 9 point 1: one serializer (the contracts' pydantic models) on every path.
    rows = await api.seed(tenant)
    cid = rows["jira_itsm"]["id"]
    headers = api.headers(tenant)
    # A scope may only name what the last verification found (validation.valid_config).
    await api.sql(
        "UPDATE data_source_connections SET latest_options ="
        """ '{"projects": [{"key": "IT", "name": "IT"}]}'::jsonb WHERE id = $1""",
        uuid.UUID(cid),
    )
    patched = await api.client.patch(
        f"/api/data-sources/{cid}",
        json={"description": 'Quotes " \\ ünïcödé 🎫', "config": {"project_keys": ["IT"]}},
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    key = tenant_events_key(tenant, api.settings.events_key_prefix)
    entries = await api.redis.xrange(key)
    assert entries
    fields = entries[-1][1]
    assert fields is not None
    event_data = fields[b"data"]
    assert isinstance(event_data, bytes)
    assert json.loads(event_data)["id"] == cid
    one = await api.client.get(f"/api/data-sources/{cid}", headers=headers)
    assert one.content == event_data
    listed = await api.client.get("/api/data-sources", headers=headers)
    assert event_data in listed.content
