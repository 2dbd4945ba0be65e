"""`rita-ops webhooks`: the outbox's failed rows, listed and sent again."""

from __future__ import annotations

import json
import uuid
from typing import Any


def _webhook(sql: Any, seeded: Any, status: str, *, run_id: uuid.UUID | None = None) -> int:
    [(row_id,)] = sql(
        "INSERT INTO webhook_outbox (webhook_id, tenant_id, connection_id, ingestion_run_id,"
        " action, payload, status, attempts, last_error) VALUES (:w, :t, :c, :r, :a, '{}', :s,"
        " 8, :e) RETURNING id",
        w=f"msg_{uuid.uuid4().hex}",
        t=seeded.tenant,
        c=seeded.connection,
        r=run_id,
        a="sync_tickets" if run_id else "cancel_ingestion",
        s=status,
        e="HTTP 503" if status == "failed" else None,
    )
    return int(row_id)


def test_list_failed_shows_only_the_tenants_failed_rows(ops: Any, sql: Any, seed: Any) -> None:
    mine, theirs = seed(), seed()
    failed = _webhook(sql, mine, "failed")
    _webhook(sql, mine, "delivered")
    _webhook(sql, theirs, "failed")
    result = ops("webhooks", "list", "--failed", "--tenant", str(mine.tenant), "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["id"], r["status"], r["last_error"]) for r in rows] == [
        (failed, "failed", "HTTP 503")
    ]
    assert "payload" not in rows[0]


def test_retry_puts_a_failed_webhook_back_for_the_relay(ops: Any, sql: Any, seed: Any) -> None:
    seeded = seed()
    row_id = _webhook(sql, seeded, "failed")

    dry = ops("webhooks", "retry", str(row_id), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert sql("SELECT status, attempts FROM webhook_outbox WHERE id = :i", i=row_id) == [
        ("failed", 8)
    ]

    [(webhook_id,)] = sql("SELECT webhook_id FROM webhook_outbox WHERE id = :i", i=row_id)
    result = ops("webhooks", "retry", webhook_id, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["warning"] is None
    [(status, attempts, due)] = sql(
        "SELECT status, attempts, next_attempt_at <= now() FROM webhook_outbox WHERE id = :i",
        i=row_id,
    )
    assert (status, attempts, due) == ("pending", 0, True)

    again = ops("webhooks", "retry", str(row_id))
    assert again.exit_code == 1
    assert "only failed" in again.stderr


def test_retry_warns_when_the_run_of_a_sync_webhook_already_ended(
    ops: Any, sql: Any, seed: Any
) -> None:
    seeded = seed()
    run_id = uuid.uuid4()
    sql(
        "INSERT INTO ingestion_runs (id, tenant_id, connection_id, status, time_range_days,"
        " records_processed, records_failed) VALUES (:id, :t, :c, 'failed', 30, 0, 0)",
        id=run_id,
        t=seeded.tenant,
        c=seeded.connection,
    )
    row_id = _webhook(sql, seeded, "failed", run_id=run_id)
    result = ops("webhooks", "retry", str(row_id))
    assert result.exit_code == 0, result.output
    assert "relay drops this sync_tickets webhook" in result.stderr


def test_retry_of_another_tenants_webhook_changes_nothing(ops: Any, sql: Any, seed: Any) -> None:
    row_id = _webhook(sql, seed(), "failed")
    result = ops("webhooks", "retry", str(row_id), "--tenant", str(uuid.uuid4()))
    assert result.exit_code == 1
    assert sql("SELECT status FROM webhook_outbox WHERE id = :i", i=row_id) == [("failed",)]
