"""Sync tickets, cancel, the outbox relay (retries, giving up), the reaper, event order."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
from redis.asyncio import Redis
from standardwebhooks import Webhook

from connections_api.reaper import reap_once
from contracts import parse_webhook
from events import decode_channel_message
from rita_testing import asyncpg_dsn
from rita_testing.connections_api import (
    ENVELOPE_KEYS,
    WEBHOOK_SECRET,
    Api,
    Receiver,
    eventually,
    free_port_url,
)


async def _ready(api: Api, tenant: uuid.UUID, kind: str = "jira_itsm") -> str:
    rows = await api.seed(tenant)
    await api.enable(rows[kind]["id"])
    return str(rows[kind]["id"])


async def _sync(api: Api, tenant: uuid.UUID, connection_id: str, days: int = 60) -> Any:
    return await api.act(
        tenant, connection_id, "sync-tickets", {"time_range_days": days}, sub="bob"
    )


async def _get(api: Api, tenant: uuid.UUID, connection_id: str) -> dict[str, Any]:
    response = await api.client.get(
        f"/api/data-sources/{connection_id}", headers=api.headers(tenant)
    )
    result: dict[str, Any] = response.json()
    return result


async def test_sync_creates_a_run_and_delivers_the_webhook(
    api: Api, receiver: Receiver, tenant: uuid.UUID
) -> None:
    connection_id = await _ready(api, tenant)
    response = await _sync(api, tenant, connection_id)
    assert response.status_code == 202, response.text
    run = response.json()
    assert (run["status"], run["time_range_days"], run["started_by"]) == ("pending", 60, "bob")
    assert (await _get(api, tenant, connection_id))["status"] == "syncing"

    async def delivered() -> bool:
        return bool(receiver.for_connection(connection_id))

    await eventually(delivered)
    [request] = receiver.for_connection(connection_id)
    Webhook(WEBHOOK_SECRET).verify(request.body, request.headers)
    payload = json.loads(request.body)
    assert set(payload) == ENVELOPE_KEYS | {"settings", "ingestion_run_id"}
    assert payload["action"] == "sync_tickets"
    assert payload["ingestion_run_id"] == run["id"]
    assert payload["settings"] == {
        "base_url": "https://acme.example.invalid",
        "email": "a@example.com",
        "time_range_days": 60,
    }
    assert parse_webhook(request.body).action == "sync_tickets"
    [outbox] = await api.sql(
        "SELECT status, attempts FROM webhook_outbox WHERE ingestion_run_id = $1",
        uuid.UUID(run["id"]),
    )
    assert (outbox["status"], outbox["attempts"]) == ("delivered", 1)
    latest = await api.client.get(
        f"/api/data-sources/{connection_id}/ingestion-runs/latest", headers=api.headers(tenant)
    )
    assert latest.json()["id"] == run["id"]
    runs = await api.client.get(
        f"/api/data-sources/{connection_id}/ingestion-runs", headers=api.headers(tenant)
    )
    assert runs.json()["count"] == 1


async def test_sync_refusals(api: Api, tenant: uuid.UUID) -> None:
    rows = await api.seed(tenant)
    not_verified = await _sync(api, tenant, rows["jira_itsm"]["id"])
    assert (not_verified.status_code, not_verified.json()["code"]) == (409, "not_verified")
    for kind in ("jira", "confluence", "websearch"):
        await api.enable(rows[kind]["id"])
        refused = await _sync(api, tenant, rows[kind]["id"])
        assert (refused.status_code, refused.json()["code"]) == (400, "unsupported_type")
    await api.enable(rows["servicenow"]["id"])
    assert (await _sync(api, tenant, rows["servicenow"]["id"])).status_code == 202
    again = await _sync(api, tenant, rows["servicenow"]["id"])
    assert (again.status_code, again.json()["code"]) == (409, "sync_in_progress")
    for days in (0, 366, "x"):
        bad = await api.act(
            tenant, rows["servicenow"]["id"], "sync-tickets", {"time_range_days": days}
        )
        assert bad.status_code == 422


async def test_two_concurrent_syncs_give_one_202_and_one_409(api: Api, tenant: uuid.UUID) -> None:
    connection_id = await _ready(api, tenant)
    responses = await asyncio.gather(*(_sync(api, tenant, connection_id) for _ in range(2)))
    assert sorted(r.status_code for r in responses) == [202, 409]
    active = await api.sql(
        "SELECT count(*) AS n FROM ingestion_runs WHERE connection_id = $1"
        " AND status IN ('pending', 'running')",
        uuid.UUID(connection_id),
    )
    assert active[0]["n"] == 1


async def test_cancel_ends_the_run_and_queues_cancel(
    api: Api, receiver: Receiver, tenant: uuid.UUID
) -> None:
    connection_id = await _ready(api, tenant)
    nothing = await api.client.post(
        f"/api/data-sources/{connection_id}/cancel-ingestion", headers=api.headers(tenant)
    )
    assert (nothing.status_code, nothing.json()["code"]) == (409, "no_active_run")
    run = (await _sync(api, tenant, connection_id)).json()

    async def start_sent() -> bool:
        return bool(receiver.for_connection(connection_id))

    await eventually(start_sent)  # the start left first: the cancel must follow it
    response = await api.client.post(
        f"/api/data-sources/{connection_id}/cancel-ingestion", headers=api.headers(tenant)
    )
    assert response.status_code == 202
    cancelled = response.json()
    assert cancelled["error_code"] == "cancelled_by_user"
    assert cancelled["id"] == run["id"]
    assert cancelled["status"] == "cancelled"
    assert cancelled["completed_at"] is not None
    row = await _get(api, tenant, connection_id)
    assert (row["status"], row["last_sync_status"], row["last_sync_error"]) == (
        "idle",
        "cancelled",
        None,
    )
    assert row["last_sync_at"] is not None

    async def cancel_sent() -> bool:
        actions = [json.loads(r.body)["action"] for r in receiver.for_connection(connection_id)]
        return "cancel_ingestion" in actions

    await eventually(cancel_sent)
    sent = [json.loads(r.body) for r in receiver.for_connection(connection_id)]
    assert [(p["action"], p["ingestion_run_id"]) for p in sent] == [
        ("sync_tickets", run["id"]),
        ("cancel_ingestion", run["id"]),
    ]
    assert sent[1]["user_id"] == "user-1"
    again = await _sync(api, tenant, connection_id)
    assert again.status_code == 202


async def test_cancel_racing_a_run_ending_neither_deadlocks_nor_500s(
    api: Api, tenant: uuid.UUID
) -> None:
    # The consumer ends a run by locking the run, then its connection (store.status_sql); the
    # reaper and the relay do the same. A cancel that locked them the other way round deadlocked
    # with it: PostgreSQL aborted one side (the API's, as a 500).
    connection_id = await _ready(api, tenant)
    run = (await _sync(api, tenant, connection_id)).json()
    consumer = await asyncpg.connect(asyncpg_dsn(api.database_url))
    try:
        tx = consumer.transaction()
        await tx.start()
        await consumer.execute(
            "UPDATE ingestion_runs SET status = 'completed', completed_at = now(),"
            " updated_at = now() WHERE id = $1",
            uuid.UUID(run["id"]),
        )
        cancel = asyncio.create_task(
            api.client.post(
                f"/api/data-sources/{connection_id}/cancel-ingestion",
                headers=api.headers(tenant),
            )
        )

        async def cancel_waits_for_a_lock() -> bool:
            waiting = await consumer.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            return bool(waiting)

        await eventually(cancel_waits_for_a_lock, within=10)
        await asyncio.wait_for(
            consumer.execute(
                "UPDATE data_source_connections SET status = 'idle',"
                " last_sync_status = 'completed', last_sync_at = now(),"
                " version = version + 1, updated_at = now() WHERE id = $1",
                uuid.UUID(connection_id),
            ),
            timeout=10,
        )
        await tx.commit()
        response = await asyncio.wait_for(cancel, timeout=10)
    finally:
        await consumer.close()
    assert (response.status_code, response.json()["code"]) == (409, "no_active_run")
    row = await _get(api, tenant, connection_id)
    assert (row["status"], row["last_sync_status"]) == ("idle", "completed")


async def test_outbox_retries_until_the_receiver_answers(
    api: Api, receiver: Receiver, tenant: uuid.UUID
) -> None:
    connection_id = await _ready(api, tenant)
    receiver.fail_next = 2
    run = (await _sync(api, tenant, connection_id)).json()

    async def delivered() -> bool:
        rows = await api.sql(
            "SELECT status FROM webhook_outbox WHERE ingestion_run_id = $1", uuid.UUID(run["id"])
        )
        return bool(rows[0]["status"] == "delivered")

    await eventually(delivered)
    requests = receiver.for_connection(connection_id)
    assert len(requests) == 3
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    run_now = await api.client.get(
        f"/api/data-sources/{connection_id}/ingestion-runs/latest", headers=api.headers(tenant)
    )
    assert run_now.json()["status"] == "pending"


async def test_outbox_gives_up_fails_the_run_and_publishes(
    api_factory: Any, tenant: uuid.UUID
) -> None:
    api: Api = await api_factory(sync_webhook_url=free_port_url(), outbox_max_attempts=2)
    connection_id = await _ready(api, tenant)
    run = (await _sync(api, tenant, connection_id)).json()

    async def failed() -> bool:
        latest = await api.client.get(
            f"/api/data-sources/{connection_id}/ingestion-runs/latest", headers=api.headers(tenant)
        )
        return bool(latest.json()["status"] == "failed")

    await eventually(failed)
    message = "Could not reach the sync service after 2 attempts"
    latest = (
        await api.client.get(
            f"/api/data-sources/{connection_id}/ingestion-runs/latest", headers=api.headers(tenant)
        )
    ).json()
    assert latest["id"] == run["id"]
    assert latest["error_message"] == message
    assert latest["error_detail"] == {"error_code": "unreachable", "stage": "webhook"}
    assert latest["error_code"] == "unreachable"
    row = await _get(api, tenant, connection_id)
    assert (row["status"], row["last_sync_status"], row["last_sync_error"]) == (
        "idle",
        "failed",
        message,
    )
    events = await api.stream(tenant)
    assert events[-2].event == "ingestion_run_update"
    assert events[-2].data["status"] == "failed"
    assert events[-1].event == "data_source_update"
    assert events[-1].data["last_sync_status"] == "failed"


async def test_reaper_fails_silent_runs_and_cancels_them_on_the_sync_side(
    api: Api, receiver: Receiver, tenant: uuid.UUID
) -> None:
    rows = await api.seed(tenant)
    silent, fresh = rows["jira_itsm"]["id"], rows["servicenow"]["id"]
    for connection_id in (silent, fresh):
        await api.enable(connection_id)
    run = (await _sync(api, tenant, silent)).json()
    fresh_run = (await _sync(api, tenant, fresh)).json()
    await api.sql(
        "UPDATE ingestion_runs SET updated_at = now() - interval '31 minutes' WHERE id = $1",
        uuid.UUID(run["id"]),
    )
    # Just inside the threshold: a run that spoke 29 minutes ago is still alive.
    await api.sql(
        "UPDATE ingestion_runs SET updated_at = now() - interval '29 minutes' WHERE id = $1",
        uuid.UUID(fresh_run["id"]),
    )
    await reap_once(api.state)
    latest = (
        await api.client.get(
            f"/api/data-sources/{silent}/ingestion-runs/latest", headers=api.headers(tenant)
        )
    ).json()
    assert latest["status"] == "failed"
    assert latest["error_detail"] == {"error_code": "timeout"}
    assert latest["error_code"] == "timeout"
    assert latest["error_message"] == "No progress from the sync service for 30 minutes"
    row = await _get(api, tenant, silent)
    assert (row["status"], row["last_sync_status"]) == ("idle", "failed")
    survivor = (
        await api.client.get(
            f"/api/data-sources/{fresh}/ingestion-runs/latest", headers=api.headers(tenant)
        )
    ).json()
    assert (survivor["id"], survivor["status"]) == (fresh_run["id"], "pending")
    assert (await _get(api, tenant, fresh))["status"] == "syncing"

    # The sync service is told to stop, through the outbox, as after a user's cancel.
    async def cancel_sent() -> bool:
        return any(
            json.loads(r.body)["action"] == "cancel_ingestion"
            for r in receiver.for_connection(silent)
        )

    await eventually(cancel_sent)
    [cancel] = [
        json.loads(r.body)
        for r in receiver.for_connection(silent)
        if json.loads(r.body)["action"] == "cancel_ingestion"
    ]
    assert cancel["ingestion_run_id"] == run["id"]
    assert cancel["user_id"] == "bob"  # who started the run
    assert not [
        r for r in receiver.for_connection(fresh) if json.loads(r.body)["action"] != "sync_tickets"
    ]


async def test_events_arrive_in_order_after_commit(
    api: Api, redis_url: str, tenant: uuid.UUID
) -> None:
    connection_id = await _ready(api, tenant)
    subscriber = Redis.from_url(redis_url)
    pubsub = subscriber.pubsub()
    await pubsub.subscribe(f"{api.settings.events_key_prefix}{tenant}")
    seen: list[dict[str, Any]] = []

    async def listen() -> None:
        async for message in pubsub.listen():
            if message["type"] != "message":
                continue
            event = decode_channel_message(message["data"]).model_dump(mode="json")
            # The change is committed before its event: the database already shows it.
            if event["event"] == "data_source_update":
                [db] = await api.sql(
                    "SELECT version FROM data_source_connections WHERE id = $1",
                    uuid.UUID(event["data"]["id"]),
                )
                assert db["version"] >= event["data"]["version"]
            seen.append(event)
            if len(seen) == 5:
                return

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    await _sync(api, tenant, connection_id)
    await api.client.post(
        f"/api/data-sources/{connection_id}/cancel-ingestion", headers=api.headers(tenant)
    )
    await api.client.patch(
        f"/api/data-sources/{connection_id}", json={"name": "Jira"}, headers=api.headers(tenant)
    )
    await asyncio.wait_for(listener, 10)
    await pubsub.aclose()  # type: ignore[no-untyped-call]
    await subscriber.aclose()
    assert [(e["event"], e["data"]["status"]) for e in seen] == [
        ("ingestion_run_update", "pending"),
        ("data_source_update", "syncing"),
        ("ingestion_run_update", "cancelled"),
        ("data_source_update", "idle"),
        ("data_source_update", "idle"),
    ]
    versions = [e["data"]["version"] for e in seen if e["event"] == "data_source_update"]
    assert versions == sorted(versions)
    stream_ids = [e.id for e in await api.stream(tenant)][-5:]
    assert stream_ids == [e["id"] for e in seen]
