"""`rita-ops runs` and `connections show` on the real PostgreSQL (events to the real Redis)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import redis

from contracts import tenant_events_key


def _run(sql: Any, seeded: Any, status: str, *, silent_minutes: int) -> uuid.UUID:
    run_id = uuid.uuid4()
    sql(
        "INSERT INTO ingestion_runs (id, tenant_id, connection_id, status, time_range_days,"
        " records_processed, records_failed, updated_at, created_at) VALUES (:id, :t, :c, :s, 30,"
        " 7, 0, now() - make_interval(mins => :m), now() - make_interval(mins => :m))",
        id=run_id,
        t=seeded.tenant,
        c=seeded.connection,
        s=status,
        m=silent_minutes,
    )
    return run_id


def test_stuck_lists_only_active_runs_silent_longer_than_the_threshold(
    ops: Any, sql: Any, seed: Any
) -> None:
    quiet, busy, done = seed("syncing"), seed("syncing"), seed()
    stuck = _run(sql, quiet, "running", silent_minutes=45)
    _run(sql, busy, "running", silent_minutes=1)
    _run(sql, done, "completed", silent_minutes=600)
    for tenant in (quiet.tenant, busy.tenant, done.tenant):
        result = ops(
            "runs", "list", "--stuck", "--older-than", "600", "--tenant", str(tenant), "--json"
        )
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        if tenant == quiet.tenant:
            assert [r["id"] for r in rows] == [str(stuck)]
            assert rows[0]["silent_seconds"] >= 45 * 60
        else:
            assert rows == []
    # The default threshold (RITA_OPS_STUCK_AFTER_SECONDS, 10 minutes) and a table for people.
    table = ops("runs", "list", "--stuck", "--tenant", str(quiet.tenant))
    assert table.stdout.splitlines()[0].split()[:4] == [
        "ID",
        "TENANT_ID",
        "CONNECTION_ID",
        "STATUS",
    ]
    assert str(stuck) in table.stdout
    longer = ops(
        "runs",
        "list",
        "--stuck",
        "--tenant",
        str(quiet.tenant),
        extra_env={"RITA_OPS_STUCK_AFTER_SECONDS": "3600"},
    )
    assert longer.stdout.strip() == "(none)"


def test_list_without_stuck_shows_every_run_of_the_tenant_newest_first(
    ops: Any, sql: Any, seed: Any
) -> None:
    seeded = seed()
    old = _run(sql, seeded, "completed", silent_minutes=100)
    new = _run(sql, seeded, "failed", silent_minutes=5)
    result = ops("runs", "list", "--tenant", str(seeded.tenant), "--json")
    assert [r["id"] for r in json.loads(result.stdout)] == [str(new), str(old)]
    only_failed = ops(
        "runs", "list", "--tenant", str(seeded.tenant), "--status", "failed", "--json"
    )
    assert [r["id"] for r in json.loads(only_failed.stdout)] == [str(new)]


def test_fail_ends_the_run_frees_the_connection_queues_a_cancel_and_publishes_events(
    ops: Any, sql: Any, seed: Any, redis_url: str
) -> None:
    seeded = seed("syncing")
    run_id = _run(sql, seeded, "running", silent_minutes=40)

    dry = ops("runs", "fail", str(run_id), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would be failed" in dry.stdout
    assert sql("SELECT status FROM ingestion_runs WHERE id = :id", id=run_id) == [("running",)]

    result = ops("runs", "fail", str(run_id), "--reason", "sync service lost it", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["run"]["status"] == "failed"
    assert report["run"]["error_message"] == "Stopped by an operator: sync service lost it"

    [(status, message, detail)] = sql(
        "SELECT status, error_message, error_detail FROM ingestion_runs WHERE id = :id", id=run_id
    )
    assert (status, message) == ("failed", "Stopped by an operator: sync service lost it")
    assert detail == {"error_code": "internal", "failed_by": "rita-ops"}
    assert sql(
        "SELECT status, last_sync_status FROM data_source_connections WHERE id = :id",
        id=seeded.connection,
    ) == [("idle", "failed")]
    [(action, payload)] = sql(
        "SELECT action, payload FROM webhook_outbox WHERE ingestion_run_id = :id", id=run_id
    )
    assert action == "cancel_ingestion"
    assert payload["tenant_id"] == str(seeded.tenant)
    assert payload["user_id"] == "rita-ops"

    client = redis.Redis.from_url(redis_url)
    try:
        key = tenant_events_key(seeded.tenant, ops.env["EVENTS_KEY_PREFIX"])
        entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(key)  # type: ignore[assignment]
    finally:
        client.close()
    assert [e[1][b"event"] for e in entries] == [b"ingestion_run_update", b"data_source_update"]
    assert [e[0].decode() for e in entries] == report["events"]
    assert json.loads(entries[0][1][b"data"])["status"] == "failed"
    assert json.loads(entries[1][1][b"data"])["status"] == "idle"

    again = ops("runs", "fail", str(run_id))
    assert again.exit_code == 1
    assert "already ended (failed)" in again.stderr


def test_fail_without_redis_still_fails_the_run_and_says_events_were_not_sent(
    ops: Any, sql: Any, seed: Any
) -> None:
    seeded = seed("syncing")
    run_id = _run(sql, seeded, "running", silent_minutes=40)
    result = ops("runs", "fail", str(run_id), extra_env={"REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.exit_code == 0, result.output
    assert "events not published" in result.stderr
    assert sql("SELECT status FROM ingestion_runs WHERE id = :id", id=run_id) == [("failed",)]


def test_fail_of_another_tenants_run_changes_nothing(ops: Any, sql: Any, seed: Any) -> None:
    seeded = seed("syncing")
    run_id = _run(sql, seeded, "running", silent_minutes=40)
    result = ops("runs", "fail", str(run_id), "--tenant", str(uuid.uuid4()))
    assert result.exit_code == 1
    assert f"no ingestion run {run_id}" in result.stderr
    assert sql("SELECT status FROM ingestion_runs WHERE id = :id", id=run_id) == [("running",)]


def test_connections_show_reports_the_public_row_runs_and_outbox(
    ops: Any, sql: Any, seed: Any
) -> None:
    seeded = seed("syncing")
    active = _run(sql, seeded, "running", silent_minutes=3)
    result = ops("connections", "show", str(seeded.connection), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["connection"]["id"] == str(seeded.connection)
    assert report["connection"]["status"] == "syncing"
    assert report["active_run"]["id"] == str(active)
    assert [r["id"] for r in report["recent_runs"]] == [str(active)]
    assert report["webhooks"] == {}

    other = ops("connections", "show", str(seeded.connection), "--tenant", str(uuid.uuid4()))
    assert other.exit_code == 1
    assert "no connection" in other.stderr
