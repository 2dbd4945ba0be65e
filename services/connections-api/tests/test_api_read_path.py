"""The list endpoint: fresh after writes behind the API, the documented model's JSON."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable

from connections_api.testing import Api
from contracts import ConnectionsPublic, Role

ApiFactory = Callable[..., Awaitable[Api]]


async def test_list_sees_a_write_made_behind_the_api(api: Api, tenant: uuid.UUID) -> None:
    # The status consumer changes rows in its own process: the next list must show it.
    rows = await api.seed(tenant)
    headers = api.headers(tenant, Role.MEMBER)
    before = (await api.client.get("/api/data-sources", headers=headers)).json()
    await api.sql(
        "UPDATE data_source_connections SET status = 'verifying', version = version + 1,"
        " updated_at = now() WHERE id = $1 AND tenant_id = $2",
        uuid.UUID(rows["jira_itsm"]["id"]),
        tenant,
    )
    after = (await api.client.get("/api/data-sources", headers=headers)).json()
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
