"""The API and the status consumer together, outside the browser suite: a verification applied
by the real consumer (no test writes the verified state into the database itself)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable

from rita_testing.stack import Stack
from rita_testing.workload import publish
from tests.chaos.harness import Api, eventually_true
from tests.chaos.receiver import running_receiver

SETTINGS = {"base_url": "https://93.184.215.14", "email": "a@example.com"}
CREDENTIALS = {"email": "a@example.com", "api_token": "token-of-the-sync-service"}


def verification(
    tenant: uuid.UUID, connection_id: str, verification_id: str | None, *, success: bool
) -> bytes:
    """The message a sync service publishes for a verification's result."""
    body: dict[str, object] = {
        "type": "verification",
        "tenant_id": str(tenant),
        "connection_id": connection_id,
        "status": "success" if success else "failed",
    }
    if success:
        body["options"] = {"projects": [{"key": "OPS", "name": "Operations"}]}
    else:
        body["error_message"] = "Jira rejected the email or API token (401)"
        body["error_detail"] = {"error_code": "auth_failed"}
    if verification_id is not None:
        body["verification_id"] = verification_id
    return json.dumps(body).encode()


async def test_a_verification_result_is_applied_by_the_consumer_and_a_stale_one_ignored(
    stack_factory: Callable[..., Stack], rabbitmq_url: str, queue_name: str
) -> None:
    async with running_receiver() as receiver:
        stack = stack_factory(SYNC_WEBHOOK_URL=receiver.url)
        api_proc = await asyncio.to_thread(stack.start, "connections-api")
        await asyncio.to_thread(stack.start, "status-consumer")
        tenant = uuid.uuid4()
        async with Api(api_proc.url, tenant) as api:
            row_id = (await api.connection("jira_itsm"))["id"]
            first = await api.call(
                "POST",
                f"/api/data-sources/{row_id}/verify",
                json={"settings": SETTINGS, "credentials": CREDENTIALS},
            )
            assert first.status_code == 202, first.text
            second = await api.call(
                "POST",
                f"/api/data-sources/{row_id}/verify",
                json={"settings": SETTINGS, "credentials": CREDENTIALS},
            )
            assert second.status_code == 202, second.text
            older, newer = (d.body["verification_id"] for d in receiver.deliveries[-2:])
            assert older != newer

            # The older verification (a wrong token) answers last-but-one: stale, so it must not
            # end the newer verification with its 401. The newer one's success is applied.
            await publish(
                rabbitmq_url, queue_name, [verification(tenant, row_id, older, success=False)]
            )
            await publish(
                rabbitmq_url, queue_name, [verification(tenant, row_id, newer, success=True)]
            )
            await eventually_true(lambda: api.verified(row_id), within=30)
            row = await api.get(row_id)
    assert row["latest_options"] == {"projects": [{"key": "OPS", "name": "Operations"}]}
    assert row["last_verified_at"] is not None
    assert row["last_verification_error"] is None
    assert row["last_verification_error_code"] is None
    assert "verification_id" not in row  # internal: never in the public row
