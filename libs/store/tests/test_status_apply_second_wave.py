"""Second-wave state rules: verification ids, error codes, cancelled runs, wrong kinds, variants."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import TRUNCATION_MARKER
from rita_testing.rows import apply_messages, fetch_row, insert_connection, insert_run

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


async def verifying(engine: AsyncEngine, verification_id: UUID | None) -> tuple[UUID, UUID]:
    cid, tenant = await insert_connection(engine, status="verifying", enabled=False)
    async with engine.begin() as c:
        await c.execute(
            sa.text(
                "UPDATE data_source_connections SET verification_id = :v,"
                " last_verified_at = :earlier WHERE id = :id"
            ),
            {"v": verification_id, "id": cid, "earlier": T0 - timedelta(days=3)},
        )
    return cid, tenant


def verification(cid: UUID, tenant: UUID, status: str, at: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "type": "verification",
        "connection_id": str(cid),
        "tenant_id": str(tenant),
        "status": status,
        "timestamp": (T0 + timedelta(seconds=at)).isoformat(),
        **extra,
    }


def ticket(rid: UUID, tenant: UUID, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "ticket_ingestion",
        "ingestion_run_id": str(rid),
        "tenant_id": str(tenant),
        "status": status,
        "timestamp": T0.isoformat(),
        **extra,
    }


async def test_result_for_an_older_verification_is_ignored(engine: AsyncEngine) -> None:
    current, older = uuid.uuid4(), uuid.uuid4()
    cid, tenant = await verifying(engine, current)
    # The older request's failure arrives first, in the same batch as the current success.
    result = await apply_messages(
        engine,
        verification(cid, tenant, "failed", 1, verification_id=str(older), error="401"),
        verification(cid, tenant, "success", 2, verification_id=str(current), options={"a": 1}),
    )
    got = await fetch_row(engine, "data_source_connections", cid)
    assert (got["status"], got["enabled"], got["latest_options"]) == ("idle", True, {"a": 1})
    assert got["verification_id"] is None
    assert [(s.connection_id, s.verification_id) for s in result.stale_verifications] == [
        (cid, older)
    ]


async def test_older_result_alone_leaves_the_connection_verifying(engine: AsyncEngine) -> None:
    current = uuid.uuid4()
    cid, tenant = await verifying(engine, current)
    result = await apply_messages(
        engine, verification(cid, tenant, "success", verification_id=str(uuid.uuid4()))
    )
    got = await fetch_row(engine, "data_source_connections", cid)
    assert (got["status"], got["verification_id"], got["version"]) == ("verifying", current, 1)
    assert result.connections == []
    assert len(result.stale_verifications) == 1
    assert result.mismatches == []


async def test_result_without_id_follows_the_first_result_rule(engine: AsyncEngine) -> None:
    cid, tenant = await verifying(engine, uuid.uuid4())
    await apply_messages(
        engine,
        verification(cid, tenant, "failed", 1, error="Invalid token"),
        verification(cid, tenant, "success", 2),
    )
    got = await fetch_row(engine, "data_source_connections", cid)
    assert (got["status"], got["enabled"], got["last_verification_error"]) == (
        "idle",
        False,
        "Invalid token",
    )
    assert got["verification_id"] is None


async def test_success_sets_both_times_failure_only_the_attempt(engine: AsyncEngine) -> None:
    ok_id, bad_id = uuid.uuid4(), uuid.uuid4()
    ok, ok_tenant = await verifying(engine, ok_id)
    bad, bad_tenant = await verifying(engine, bad_id)
    await apply_messages(
        engine,
        verification(ok, ok_tenant, "success", 5, verification_id=str(ok_id)),
        verification(
            bad,
            bad_tenant,
            "failed",
            6,
            verification_id=str(bad_id),
            error="Jira rejected the token",
            error_detail={"error_code": "authentication_failed"},
        ),
    )
    good = await fetch_row(engine, "data_source_connections", ok)
    assert (good["last_verified_at"], good["last_verification_at"]) == (
        T0 + timedelta(seconds=5),
        T0 + timedelta(seconds=5),
    )
    assert (good["last_verification_error"], good["last_verification_error_code"]) == (None, None)
    failed = await fetch_row(engine, "data_source_connections", bad)
    assert failed["last_verification_at"] == T0 + timedelta(seconds=6)
    assert failed["last_verified_at"] == T0 - timedelta(days=3)  # the last success stays
    assert (failed["last_verification_error"], failed["last_verification_error_code"]) == (
        "Jira rejected the token",
        "auth_failed",
    )


async def test_unknown_error_code_is_stored_as_none(engine: AsyncEngine) -> None:
    cid, tenant = await verifying(engine, None)
    await apply_messages(
        engine, verification(cid, tenant, "failed", error_detail={"error_code": "gremlins"})
    )
    got = await fetch_row(engine, "data_source_connections", cid)
    assert (got["status"], got["last_verification_error_code"]) == ("idle", None)


async def test_ritas_array_options_with_nulls_are_stored_as_sent(engine: AsyncEngine) -> None:
    cid, tenant = await verifying(engine, None)
    # Rita's platform script, byte for byte in shape: `message_type`, array options, null error.
    body = {
        "message_type": "verification",
        "connection_id": str(cid),
        "tenant_id": str(tenant),
        "status": "success",
        "options": [{"key": "IT", "name": "IT Support"}],
        "error": None,
    }
    result = await apply_messages(engine, body)
    got = await fetch_row(engine, "data_source_connections", cid)
    assert (got["status"], got["enabled"]) == ("idle", True)
    assert got["latest_options"] == [{"key": "IT", "name": "IT Support"}]
    assert result.connections[0].latest_options == [{"key": "IT", "name": "IT Support"}]


async def test_ritas_failure_with_null_options_and_error_alias(engine: AsyncEngine) -> None:
    cid, tenant = await verifying(engine, None)
    body = {
        "message_type": "verification",
        "connection_id": str(cid),
        "tenant_id": str(tenant),
        "status": "failed",
        "options": None,
        "error": "Authentication failed",
    }
    await apply_messages(engine, body)
    got = await fetch_row(engine, "data_source_connections", cid)
    assert (got["enabled"], got["last_verification_error"], got["latest_options"]) == (
        False,
        "Authentication failed",
        None,
    )


async def test_cancelled_message_ends_the_run_cancelled(engine: AsyncEngine) -> None:
    cid, tenant = await insert_connection(engine, status="syncing")
    rid = await insert_run(engine, cid, tenant, "running")
    await apply_messages(
        engine,
        ticket(rid, tenant, "cancelled", records_processed=12, error="Stopped on request"),
    )
    run = await fetch_row(engine, "ingestion_runs", rid)
    conn = await fetch_row(engine, "data_source_connections", cid)
    assert (run["status"], run["records_processed"], run["completed_at"]) == (
        "cancelled",
        12,
        T0,
    )
    assert run["error_message"] == "Stopped on request"
    assert (conn["status"], conn["last_sync_status"], conn["last_sync_at"]) == (
        "idle",
        "cancelled",
        T0,
    )
    assert conn["enabled"] is True


async def test_run_error_code_and_reverify_code(engine: AsyncEngine) -> None:
    cid, tenant = await insert_connection(engine, status="syncing")
    rid = await insert_run(engine, cid, tenant, "running")
    detail = {"error_code": "permission_denied", "http_status": 403}
    result = await apply_messages(
        engine, ticket(rid, tenant, "failed", error_message="No access", error_detail=detail)
    )
    run = await fetch_row(engine, "ingestion_runs", rid)
    conn = await fetch_row(engine, "data_source_connections", cid)
    assert (run["error_code"], run["error_detail"]) == ("forbidden", detail)
    assert (conn["enabled"], conn["last_verification_error_code"]) == (False, "forbidden")
    assert result.runs[0].error_code == "forbidden"


async def test_long_error_text_is_stored_truncated(engine: AsyncEngine) -> None:
    cid, tenant = await insert_connection(engine, status="syncing")
    rid = await insert_run(engine, cid, tenant, "running")
    await apply_messages(engine, ticket(rid, tenant, "failed", error_message="Jira: " + "x" * 5000))
    run = await fetch_row(engine, "ingestion_runs", rid)
    assert run["status"] == "failed"
    assert len(run["error_message"]) == 2000
    assert run["error_message"].startswith("Jira: xxx")
    assert run["error_message"].endswith(TRUNCATION_MARKER)


async def test_knowledge_sync_naming_an_itsm_connection_is_rejected(engine: AsyncEngine) -> None:
    cid, tenant = await insert_connection(engine, status="syncing")
    mid = f"m-{uuid.uuid4()}"
    body = {
        "type": "sync",
        "connection_id": str(cid),
        "tenant_id": str(tenant),
        "status": "sync_completed",
        "message_id": mid,
    }
    before = await fetch_row(engine, "data_source_connections", cid)
    result = await apply_messages(engine, body)
    assert [(r.index, "jira_itsm" in r.reason) for r in result.rejected] == [(0, True)]
    assert await fetch_row(engine, "data_source_connections", cid) == before
    assert result.connections == []
    # Nothing recorded either: not even its message id.
    async with engine.connect() as c:
        seen = await c.execute(
            sa.text("SELECT count(*) FROM status_message_receipts WHERE message_id = :m"),
            {"m": mid},
        )
        assert seen.scalar_one() == 0


async def test_servicenow_is_both_kinds(engine: AsyncEngine) -> None:
    cid, tenant = await insert_connection(
        engine, kind="servicenow", name="ServiceNow", status="syncing"
    )
    body = {"type": "sync", "connection_id": str(cid), "tenant_id": str(tenant)}
    result = await apply_messages(engine, {**body, "status": "sync_completed"})
    assert result.rejected == []
    assert (await fetch_row(engine, "data_source_connections", cid))[
        "last_sync_status"
    ] == "completed"


async def test_ticket_ingestion_naming_a_knowledge_source_is_rejected(engine: AsyncEngine) -> None:
    cid, tenant = await insert_connection(engine, status="syncing")
    rid = await insert_run(engine, cid, tenant, "running")
    docs, _ = await insert_connection(engine, kind="confluence", name="Docs", status="syncing")
    async with engine.begin() as c:  # the same tenant's knowledge source
        await c.execute(
            sa.text("UPDATE data_source_connections SET tenant_id = :t WHERE id = :id"),
            {"t": tenant, "id": docs},
        )
    other, _ = await insert_connection(engine, status="idle")
    async with engine.begin() as c:
        await c.execute(
            sa.text(
                "UPDATE data_source_connections SET tenant_id = :t, type = 'servicenow'"
                " WHERE id = :id"
            ),
            {"t": tenant, "id": other},
        )
    result = await apply_messages(
        engine,
        ticket(rid, tenant, "completed", connection_id=str(docs)),
        ticket(rid, tenant, "failed", connection_id=str(other)),
        ticket(rid, tenant, "running", connection_id=str(cid), records_processed=4),
    )
    assert [r.index for r in result.rejected] == [0, 1]
    assert "confluence" in result.rejected[0].reason
    assert "belongs to another connection" in result.rejected[1].reason
    run = await fetch_row(engine, "ingestion_runs", rid)
    assert (run["status"], run["records_processed"]) == ("running", 4)
