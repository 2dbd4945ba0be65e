"""Rules that had no test (issue 15) and the verification life cycle (issue 11, points 3-4).

Outbox backoff growth, no retry on 4xx, the drop of a start whose run already ended; the
reaper's schedule and thresholds; 409s while verifying or syncing; run history paging.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from connections_api.reaper import reap_once
from connections_api.relay import DeliveryRetries
from rita_testing.connections_api import Api, Receiver, eventually

JIRA = {"base_url": "https://acme.example.invalid", "email": "a@example.com"}
CREDS = {"email": "a@example.com", "api_token": "ATATT-rules-token"}
VERIFY = {"settings": JIRA, "credentials": CREDS}


async def _ready(api: Api, tenant: uuid.UUID, kind: str = "jira_itsm") -> str:
    rows = await api.seed(tenant)
    await api.enable(rows[kind]["id"])
    return str(rows[kind]["id"])


async def _get(api: Api, tenant: uuid.UUID, connection_id: str) -> dict[str, Any]:
    response = await api.client.get(
        f"/api/data-sources/{connection_id}", headers=api.headers(tenant)
    )
    result: dict[str, Any] = response.json()
    return result


async def _outbox(api: Api, run_id: str) -> list[Any]:
    return await api.sql(
        "SELECT action, status, attempts, last_error,"
        " extract(epoch FROM next_attempt_at - now()) AS wait"
        " FROM webhook_outbox WHERE ingestion_run_id = $1 ORDER BY id",
        uuid.UUID(run_id),
    )


# --- outbox relay ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempts", "low", "high"),
    [(1, 0.8, 1.0), (2, 1.6, 2.0), (3, 3.2, 4.0), (5, 12.8, 16.0), (9, 24.0, 30.0), (40, 24, 30)],
)
def test_backoff_doubles_per_attempt_up_to_the_cap(attempts: int, low: float, high: float) -> None:
    retries = DeliveryRetries(base=1.0, cap=30.0, max_attempts=50)
    for _ in range(20):  # jitter: every draw stays in the band
        assert low <= retries.delay(attempts) <= high


def test_the_last_allowed_attempt_gives_up() -> None:
    retries = DeliveryRetries(base=1.0, cap=30.0, max_attempts=3)
    assert [retries.gives_up(n) for n in (1, 2, 3, 4)] == [False, False, True, True]


async def test_a_failed_delivery_waits_the_backoff_before_the_next_attempt(
    api_factory: Any, receiver: Receiver, tenant: uuid.UUID
) -> None:
    api: Api = await api_factory(outbox_backoff_base=60, outbox_backoff_max=600)
    connection_id = await _ready(api, tenant)
    receiver.fail_next = 1
    run = (await api.act(tenant, connection_id, "sync-tickets")).json()

    async def first_attempt_failed() -> bool:
        [row] = await _outbox(api, run["id"])
        return bool(row["attempts"] == 1)

    await eventually(first_attempt_failed)
    [row] = await _outbox(api, run["id"])
    assert row["status"] == "pending"
    assert row["last_error"] == "sync service answered 503"
    # 60 s times a jitter of 0.8-1.0 after the first failure (measured against the database clock).
    assert 40 <= float(row["wait"]) <= 60
    assert len(receiver.for_connection(connection_id)) == 1


@pytest.mark.parametrize("status", [400, 401, 404, 422])
async def test_a_4xx_answer_is_not_retried_and_fails_the_run(
    api: Api, receiver: Receiver, tenant: uuid.UUID, status: int
) -> None:
    connection_id = await _ready(api, tenant)
    receiver.fail_next, receiver.fail_status = 5, status
    run = (await api.act(tenant, connection_id, "sync-tickets")).json()

    async def gave_up() -> bool:
        [row] = await _outbox(api, run["id"])
        return bool(row["status"] == "failed")

    await eventually(gave_up)
    [row] = await _outbox(api, run["id"])
    assert (row["attempts"], row["last_error"]) == (1, f"sync service answered {status}")
    assert len(receiver.for_connection(connection_id)) == 1
    latest = await api.client.get(
        f"/api/data-sources/{connection_id}/ingestion-runs/latest", headers=api.headers(tenant)
    )
    assert (latest.json()["status"], latest.json()["error_code"]) == ("failed", "unreachable")


async def test_a_start_whose_run_ended_before_delivery_is_dropped_not_sent(
    api_factory: Any, receiver: Receiver, tenant: uuid.UUID
) -> None:
    # A long backoff holds the start after one failed attempt; the user cancels meanwhile.
    api: Api = await api_factory(outbox_backoff_base=300, outbox_backoff_max=300)
    connection_id = await _ready(api, tenant)
    receiver.fail_next = 1
    run = (await api.act(tenant, connection_id, "sync-tickets")).json()

    async def first_attempt_failed() -> bool:
        rows = await _outbox(api, run["id"])
        return bool(rows[0]["attempts"] == 1)

    await eventually(first_attempt_failed)
    assert (await api.act(tenant, connection_id, "cancel-ingestion")).status_code == 202
    await api.sql(
        "UPDATE webhook_outbox SET next_attempt_at = now() WHERE ingestion_run_id = $1"
        " AND action = 'sync_tickets'",
        uuid.UUID(run["id"]),
    )

    async def cancel_delivered() -> bool:
        rows = await _outbox(api, run["id"])
        return bool(rows[-1]["status"] == "delivered")

    await eventually(cancel_delivered)
    start, cancel = await _outbox(api, run["id"])
    assert (start["action"], start["status"], start["attempts"]) == ("sync_tickets", "failed", 1)
    assert start["last_error"] == "run ended first"
    assert (cancel["action"], cancel["attempts"]) == ("cancel_ingestion", 1)
    sent = [json.loads(r.body)["action"] for r in receiver.for_connection(connection_id)]
    assert sent == ["sync_tickets", "cancel_ingestion"]  # the refused first try, then the cancel


# --- reaper ---------------------------------------------------------------------------------


async def test_the_reaper_runs_on_its_own_schedule(api: Api, tenant: uuid.UUID) -> None:
    """No explicit `reap_once`: the lifespan started the reaper task (interval 0.2 s here)."""
    connection_id = await _ready(api, tenant)
    run = (await api.act(tenant, connection_id, "sync-tickets")).json()
    await api.sql(
        "UPDATE ingestion_runs SET updated_at = now() - interval '2 hours' WHERE id = $1",
        uuid.UUID(run["id"]),
    )

    async def reaped() -> bool:
        return bool((await _get(api, tenant, connection_id))["last_sync_status"] == "failed")

    await eventually(reaped)
    tasks = {t.get_name() for t in asyncio.all_tasks()}
    assert {"reaper", "outbox-relay"} <= tasks


async def test_a_verification_without_result_times_out_to_idle(
    api: Api, receiver: Receiver, tenant: uuid.UUID
) -> None:
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    verifying = await api.verify(tenant, connection_id, VERIFY)
    assert verifying.json()["status"] == "verifying"
    await api.sql(
        "UPDATE data_source_connections SET verification_started_at = now() - interval '121 s'"
        " WHERE id = $1",
        uuid.UUID(connection_id),
    )

    async def timed_out() -> bool:  # the scheduled reaper, not a direct call
        return bool((await _get(api, tenant, connection_id))["status"] == "idle")

    await eventually(timed_out)
    row = await _get(api, tenant, connection_id)
    assert row["last_verification_error_code"] == "verification_timeout"
    assert row["last_verification_error"] == (
        "The sync service did not answer within 2 minutes; verify again"
    )
    assert row["last_verification_at"] is not None
    assert row["enabled"] is False
    events = [e.data for e in await api.stream(tenant) if e.data["id"] == connection_id]
    assert [e["status"] for e in events] == ["idle", "verifying", "idle"]  # seeded, sent, ended
    assert events[-1]["last_verification_error_code"] == "verification_timeout"
    # An admin may verify again at once.
    again = await api.verify(tenant, connection_id, VERIFY)
    assert again.status_code == 202


async def test_a_recent_verification_survives_the_reaper(api: Api, tenant: uuid.UUID) -> None:
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    await api.verify(tenant, connection_id, VERIFY)
    await api.sql(
        "UPDATE data_source_connections SET verification_started_at = now() - interval '100 s'"
        " WHERE id = $1",
        uuid.UUID(connection_id),
    )
    await reap_once(api.state)
    assert (await _get(api, tenant, connection_id))["status"] == "verifying"


async def test_each_verification_gets_its_own_id(
    api: Api, receiver: Receiver, tenant: uuid.UUID
) -> None:
    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    for _ in range(2):
        response = await api.verify(tenant, connection_id, VERIFY)
        assert response.status_code == 202
    sent = [json.loads(r.body)["verification_id"] for r in receiver.for_connection(connection_id)]
    assert len(set(sent)) == 2
    [stored] = await api.sql(
        "SELECT verification_id FROM data_source_connections WHERE id = $1",
        uuid.UUID(connection_id),
    )
    assert str(stored["verification_id"]) == sent[-1]  # the newest request is the one awaited


# --- 409s -----------------------------------------------------------------------------------


async def test_sync_while_verifying_is_409_verification_in_progress(
    api: Api, receiver: Receiver, tenant: uuid.UUID
) -> None:
    connection_id = await _ready(api, tenant)
    await api.verify(tenant, connection_id, VERIFY)
    response = await api.act(tenant, connection_id, "sync-tickets")
    assert response.status_code == 409
    assert response.json()["code"] == "verification_in_progress"
    assert (
        await api.sql(
            "SELECT id FROM ingestion_runs WHERE connection_id = $1", uuid.UUID(connection_id)
        )
        == []
    )


@pytest.mark.parametrize(
    ("busy", "code"), [("verifying", "verification_in_progress"), ("syncing", "sync_in_progress")]
)
async def test_patch_of_settings_while_busy_is_409(
    api: Api, receiver: Receiver, tenant: uuid.UUID, busy: str, code: str
) -> None:
    connection_id = await _ready(api, tenant)
    if busy == "verifying":
        await api.verify(tenant, connection_id, VERIFY)
    else:
        await api.act(tenant, connection_id, "sync-tickets")
    before = await _get(api, tenant, connection_id)
    assert before["status"] == busy
    response = await api.client.patch(
        f"/api/data-sources/{connection_id}",
        json={"settings": {"base_url": "https://other.example.invalid"}},
        headers=api.headers(tenant),
    )
    assert (response.status_code, response.json()["code"]) == (409, code)
    after = await _get(api, tenant, connection_id)
    assert (after["settings"], after["version"]) == (before["settings"], before["version"])
    renamed = await api.client.patch(
        f"/api/data-sources/{connection_id}", json={"name": "Renamed"}, headers=api.headers(tenant)
    )
    assert renamed.status_code == 200  # only settings changes wait


# --- run history ----------------------------------------------------------------------------


async def test_run_history_pages_newest_first(
    api: Api, receiver: Receiver, tenant: uuid.UUID
) -> None:
    connection_id = await _ready(api, tenant)
    made = []
    for days in (10, 20, 30):
        made.append(await api.act(tenant, connection_id, "sync-tickets", {"time_range_days": days}))
        await api.act(tenant, connection_id, "cancel-ingestion")
    ids = [r.json()["id"] for r in made]

    async def page(limit: int, offset: int) -> Any:
        response = await api.client.get(
            f"/api/data-sources/{connection_id}/ingestion-runs",
            params={"limit": limit, "offset": offset},
            headers=api.headers(tenant),
        )
        return response.json()

    first, second, past = await page(2, 0), await page(2, 2), await page(2, 4)
    assert [r["id"] for r in first["data"]] == [ids[2], ids[1]]
    assert [r["time_range_days"] for r in first["data"]] == [30, 20]
    assert [r["id"] for r in second["data"]] == [ids[0]]
    assert past["data"] == []
    assert first["count"] == second["count"] == past["count"] == 3


async def test_an_older_verifications_failure_does_not_undo_a_newer_one(
    api: Api, tenant: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verify A's webhook is still being retried when verify B starts; A then gives up (502).
    The connection stays `verifying` for B: A's failure must not end B's verification."""
    from connections_api.webhooks import DeliveryError

    rows = await api.seed(tenant)
    connection_id = rows["jira_itsm"]["id"]
    first_waiting, release_first = asyncio.Event(), asyncio.Event()
    calls = 0

    async def sender(*_args: object, **_kwargs: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            first_waiting.set()
            await release_first.wait()
            raise DeliveryError("sync service answered 503", retryable=True)

    monkeypatch.setattr(api.state.sender, "send_verify", sender)
    first = asyncio.create_task(api.verify(tenant, connection_id, VERIFY))
    await first_waiting.wait()
    second = await api.verify(tenant, connection_id, VERIFY)
    assert second.status_code == 202
    release_first.set()
    assert (await first).status_code == 502
    row = await _get(api, tenant, connection_id)
    assert (row["status"], row["last_verification_error_code"]) == ("verifying", None)
