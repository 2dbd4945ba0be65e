"""store.status_apply against the real PostgreSQL (schema migrated by connections-api)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from rita_testing.rows import apply_messages, fetch_row, insert_connection, insert_run
from store import prune_receipts
from store.status_fold import REVERIFY_SUFFIX, is_credential_failure

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


async def make_connection(
    engine: AsyncEngine, *, status: str = "idle", enabled: bool = True
) -> tuple[UUID, UUID]:
    return await insert_connection(engine, status=status, enabled=enabled)


async def make_run(engine: AsyncEngine, cid: UUID, tenant: UUID, status: str = "pending") -> UUID:
    return await insert_run(engine, cid, tenant, status)


def ticket(rid: UUID, tenant: UUID, status: str, n: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "type": "ticket_ingestion",
        "ingestion_run_id": str(rid),
        "tenant_id": str(tenant),
        "status": status,
        "records_processed": n,
        "timestamp": (T0 + timedelta(seconds=n)).isoformat(),
        **extra,
    }


def verification(cid: UUID, tenant: UUID, status: str, **extra: Any) -> dict[str, Any]:
    base = {"type": "verification", "connection_id": str(cid), "tenant_id": str(tenant)}
    return {**base, "status": status, "timestamp": T0.isoformat(), **extra}


async def test_verification_success_enables_and_stores_options(engine: AsyncEngine) -> None:
    cid, tenant = await make_connection(engine, status="verifying", enabled=False)
    options = {"projects": [{"key": "OPS"}]}
    result = await apply_messages(engine, verification(cid, tenant, "success", options=options))
    got = await fetch_row(engine, "data_source_connections", cid)
    assert (got["status"], got["enabled"], got["latest_options"]) == ("idle", True, options)
    assert got["last_verification_at"] == T0
    assert got["last_verification_error"] is None
    assert got["version"] == 2
    assert [c.id for c in result.connections] == [cid]
    assert result.connections[0].enabled is True


async def test_verification_failure_disables_with_default_error(engine: AsyncEngine) -> None:
    cid, tenant = await make_connection(engine, status="verifying")
    await apply_messages(engine, verification(cid, tenant, "failed"))
    got = await fetch_row(engine, "data_source_connections", cid)
    assert (got["status"], got["enabled"]) == ("idle", False)
    assert got["last_verification_error"] == "Verification failed"


async def test_verification_ignored_unless_verifying(engine: AsyncEngine) -> None:
    cid, tenant = await make_connection(engine, status="idle", enabled=False)
    result = await apply_messages(engine, verification(cid, tenant, "success"))
    got = await fetch_row(engine, "data_source_connections", cid)
    assert (got["enabled"], got["version"]) == (False, 1)
    assert result.connections == []


async def test_progress_raises_counters_and_never_lowers(engine: AsyncEngine) -> None:
    cid, tenant = await make_connection(engine, status="syncing")
    rid = await make_run(engine, cid, tenant)
    await apply_messages(engine, ticket(rid, tenant, "running", 50, total_estimated=200))
    result = await apply_messages(engine, ticket(rid, tenant, "running", 10, records_failed=1))
    got = await fetch_row(engine, "ingestion_runs", rid)
    assert (got["status"], got["records_processed"], got["records_failed"]) == ("running", 50, 1)
    assert got["total_estimated"] == 200
    assert got["started_at"] == T0 + timedelta(seconds=10)  # the earliest running time
    assert [r.records_processed for r in result.runs] == [50]


async def test_completed_ends_run_and_idles_connection(engine: AsyncEngine) -> None:
    cid, tenant = await make_connection(engine, status="syncing")
    rid = await make_run(engine, cid, tenant, "running")
    result = await apply_messages(engine, ticket(rid, tenant, "completed", 120))
    run = await fetch_row(engine, "ingestion_runs", rid)
    conn = await fetch_row(engine, "data_source_connections", cid)
    assert (run["status"], run["records_processed"]) == ("completed", 120)
    assert run["completed_at"] == T0 + timedelta(seconds=120)
    assert (conn["status"], conn["last_sync_status"], conn["last_sync_error"]) == (
        "idle",
        "completed",
        None,
    )
    assert conn["last_sync_at"] == run["completed_at"]
    assert conn["enabled"] is True
    assert {c.id for c in result.connections} == {cid}
    assert {r.id for r in result.runs} == {rid}


@pytest.mark.parametrize(
    ("error", "detail"),
    [
        ("Jira rejected the token", {"error_code": "authentication_failed"}),
        ("HTTP 403 from Jira", None),
        ("Missing permission to browse projects", {"error_code": "other"}),
    ],
)
async def test_credential_failure_asks_for_reverification(
    engine: AsyncEngine, error: str, detail: dict[str, Any] | None
) -> None:
    cid, tenant = await make_connection(engine, status="syncing")
    rid = await make_run(engine, cid, tenant, "running")
    await apply_messages(
        engine, ticket(rid, tenant, "failed", 5, error_message=error, error_detail=detail)
    )
    run = await fetch_row(engine, "ingestion_runs", rid)
    conn = await fetch_row(engine, "data_source_connections", cid)
    assert (run["status"], run["error_message"], run["error_detail"]) == ("failed", error, detail)
    assert (conn["status"], conn["last_sync_status"], conn["last_sync_error"]) == (
        "idle",
        "failed",
        error,
    )
    assert conn["enabled"] is False
    assert conn["last_verification_error"] == error + REVERIFY_SUFFIX


async def test_plain_failure_keeps_credentials_valid(engine: AsyncEngine) -> None:
    cid, tenant = await make_connection(engine, status="syncing")
    rid = await make_run(engine, cid, tenant, "running")
    detail = {"error_code": "instance_unavailable"}
    await apply_messages(
        engine, ticket(rid, tenant, "failed", 5, error="Jira is down", error_detail=detail)
    )
    conn = await fetch_row(engine, "data_source_connections", cid)
    assert (conn["enabled"], conn["last_verification_error"]) == (True, None)
    assert conn["last_sync_error"] == "Jira is down"


def test_credential_failure_detection() -> None:
    assert is_credential_failure(None, {"error_code": "permission_denied"})
    assert is_credential_failure("Got 401 Unauthorized", None)
    assert not is_credential_failure("Tickets below threshold", {"error_code": "timed_out"})
    assert not is_credential_failure(None, None)


async def test_late_completed_after_cancelled_changes_nothing(engine: AsyncEngine) -> None:
    cid, tenant = await make_connection(engine, status="idle")
    rid = await make_run(engine, cid, tenant, "cancelled")
    before = await fetch_row(engine, "data_source_connections", cid)
    result = await apply_messages(
        engine, ticket(rid, tenant, "running", 10), ticket(rid, tenant, "completed", 99)
    )
    assert (await fetch_row(engine, "ingestion_runs", rid))["status"] == "cancelled"
    assert await fetch_row(engine, "data_source_connections", cid) == before
    assert (result.runs, result.connections, result.mismatches) == ([], [], [])


async def test_other_tenant_changes_nothing_and_is_reported(engine: AsyncEngine) -> None:
    cid, tenant = await make_connection(engine, status="verifying")
    rid = await make_run(engine, cid, tenant, "running")
    intruder = uuid.uuid4()
    result = await apply_messages(
        engine,
        verification(cid, intruder, "success"),
        ticket(rid, intruder, "completed", 7),
    )
    assert (await fetch_row(engine, "data_source_connections", cid))["status"] == "verifying"
    assert (await fetch_row(engine, "ingestion_runs", rid))["status"] == "running"
    assert {
        (m.kind, m.row_id, m.message_tenant_id, m.row_tenant_id) for m in result.mismatches
    } == {
        ("connection", cid, intruder, tenant),
        ("ingestion_run", rid, intruder, tenant),
    }
    assert (result.runs, result.connections) == ([], [])


async def test_message_ids_deduplicate_within_and_across_batches(engine: AsyncEngine) -> None:
    cid, tenant = await make_connection(engine, status="syncing")
    rid = await make_run(engine, cid, tenant, "running")
    mid = f"m-{uuid.uuid4()}"
    first = await apply_messages(
        engine,
        ticket(rid, tenant, "running", 10, message_id=mid),
        ticket(rid, tenant, "running", 10, message_id=mid),
    )
    second = await apply_messages(engine, ticket(rid, tenant, "running", 10, message_id=mid))
    assert (first.duplicates, second.duplicates) == (1, 1)
    assert second.runs == []


async def test_batch_equals_in_order_for_one_run(engine: AsyncEngine) -> None:
    cid, tenant = await make_connection(engine, status="syncing")
    rid = await make_run(engine, cid, tenant)
    # in order: running 10 → completed 20 → (late, ignored) running 30 and failed
    result = await apply_messages(
        engine,
        ticket(rid, tenant, "running", 10),
        ticket(rid, tenant, "completed", 20),
        ticket(rid, tenant, "running", 30),
        ticket(rid, tenant, "failed", 40, error_message="late"),
    )
    run = await fetch_row(engine, "ingestion_runs", rid)
    assert (run["status"], run["records_processed"], run["error_message"]) == (
        "completed",
        20,
        None,
    )
    assert run["started_at"] == T0 + timedelta(seconds=10)
    assert len(result.runs) == 1


async def test_sync_messages_follow_last_sync_at(engine: AsyncEngine) -> None:
    cid, tenant = await insert_connection(engine, kind="confluence", name="Docs")
    base = {"type": "sync", "connection_id": str(cid), "tenant_id": str(tenant)}
    at = {i: (T0 + timedelta(minutes=i)).isoformat() for i in range(4)}
    await apply_messages(engine, {**base, "status": "sync_started", "timestamp": at[1]})
    assert (await fetch_row(engine, "data_source_connections", cid))["status"] == "syncing"
    await apply_messages(
        engine, {**base, "status": "sync_failed", "timestamp": at[2], "error_message": "boom"}
    )
    # Older than last_sync_at: ignored.
    result = await apply_messages(engine, {**base, "status": "sync_completed", "timestamp": at[0]})
    got = await fetch_row(engine, "data_source_connections", cid)
    assert (got["status"], got["last_sync_status"], got["last_sync_error"]) == (
        "idle",
        "failed",
        "boom",
    )
    assert got["last_sync_at"] == T0 + timedelta(minutes=2)
    assert result.connections == []


async def test_redelivered_messages_republish_current_rows(engine: AsyncEngine) -> None:
    cid, tenant = await make_connection(engine, status="idle")
    rid = await make_run(engine, cid, tenant, "completed")
    result = await apply_messages(engine, ticket(rid, tenant, "completed", 3), republish=[True])
    assert [r.id for r in result.runs] == [rid]
    assert [c.id for c in result.connections] == [cid]
    assert result.runs[0].metadata == {}


async def test_prune_receipts(engine: AsyncEngine) -> None:
    old, new = f"old-{uuid.uuid4()}", f"new-{uuid.uuid4()}"
    async with engine.begin() as c:
        await c.execute(
            sa.text(
                "INSERT INTO status_message_receipts (message_id, received_at) VALUES "
                "(:old, now() - interval '8 days'), (:new, now())"
            ),
            {"old": old, "new": new},
        )
        assert await prune_receipts(c) >= 1
        left = await c.execute(
            sa.text("SELECT message_id FROM status_message_receipts WHERE message_id IN (:a, :b)"),
            {"a": old, "b": new},
        )
        assert [r[0] for r in left] == [new]
