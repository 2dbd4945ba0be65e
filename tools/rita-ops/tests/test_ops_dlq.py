"""`rita-ops dlq`: read, replay and purge the status dead-letter queue on the real RabbitMQ."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import aio_pika

from contracts import ATTEMPT_HEADER, DEAD_LETTER_REASON_HEADER, SOURCE_QUEUE_HEADER

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _dead_letter(
    status_queue: str, tenant: uuid.UUID, *, reason: str, message_id: str | None = None
) -> aio_pika.Message:
    """A message as the consumer dead-letters it: original headers plus its own three."""
    body = {
        "type": "verification",
        "tenant_id": str(tenant),
        "connection_id": str(uuid.uuid4()),
        "status": "success",
    }
    return aio_pika.Message(
        json.dumps(body).encode(),
        message_id=message_id or f"m-{uuid.uuid4().hex[:8]}",
        content_type="application/json",
        timestamp=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
        headers={
            "traceparent": TRACEPARENT,
            "x-publisher": "itsm-sync",
            "x-rita-attempt": 4,
            DEAD_LETTER_REASON_HEADER: reason,
            "x-rita-source-queue": status_queue,
        },
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


def test_the_headers_removed_on_replay_are_the_ones_the_consumer_adds() -> None:
    # The consumer adds these (status_consumer/deadletter.py imports them from contracts).
    from rita_ops.dlq import ADDED_HEADERS

    assert {DEAD_LETTER_REASON_HEADER, ATTEMPT_HEADER, SOURCE_QUEUE_HEADER} == ADDED_HEADERS


def test_list_shows_each_reason_and_leaves_the_messages_in_order(ops: Any, broker: Any) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    broker.publish(
        ops.dlq,
        [
            _dead_letter(ops.status_queue, a, reason="invalid: status missing", message_id="m-1"),
            _dead_letter(ops.status_queue, b, reason="failed 5 times: boom", message_id="m-2"),
        ],
    )
    result = ops("dlq", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["key"], r["tenant_id"], r["reason"]) for r in rows] == [
        ("m-1", str(a), "invalid: status missing"),
        ("m-2", str(b), "failed 5 times: boom"),
    ]
    assert rows[0]["type"] == "verification"
    # Reading consumed nothing: both are still there, in the same order.
    assert [m.message_id for m in broker.drain(ops.dlq)] == ["m-1", "m-2"]


def test_list_filters_by_tenant_and_prints_a_table(ops: Any, broker: Any) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    broker.publish(
        ops.dlq,
        [
            _dead_letter(ops.status_queue, a, reason="bad a", message_id="m-a"),
            _dead_letter(ops.status_queue, b, reason="bad b", message_id="m-b"),
        ],
    )
    result = ops("dlq", "list", "--tenant", str(b))
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].split() == ["KEY", "TENANT_ID", "TYPE", "TIMESTAMP", "REASON"]
    assert len(lines) == 2
    assert lines[1].startswith("m-b")
    assert lines[1].endswith("bad b")


def test_list_of_a_queue_that_does_not_exist_is_empty(ops: Any) -> None:
    result = ops("dlq", "list", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_show_prints_the_reason_headers_and_body(ops: Any, broker: Any) -> None:
    tenant = uuid.uuid4()
    broker.publish(
        ops.dlq, [_dead_letter(ops.status_queue, tenant, reason="why", message_id="m-s")]
    )
    result = ops("dlq", "show", "m-s", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["reason"] == "why"
    assert shown["headers"]["traceparent"] == TRACEPARENT
    assert shown["body"]["tenant_id"] == str(tenant)
    human = ops("dlq", "show", "m-s")
    assert "reason" in human.stdout
    assert "why" in human.stdout
    assert broker.depth(ops.dlq) == 1


def test_show_of_an_unknown_key_fails_with_one_line(ops: Any, broker: Any) -> None:
    broker.publish(ops.dlq, [_dead_letter(ops.status_queue, uuid.uuid4(), reason="r")])
    result = ops("dlq", "show", "m-nope")
    assert result.exit_code == 1
    assert "no dead letter m-nope" in result.stderr


def test_replay_puts_the_message_back_on_the_status_queue_with_its_original_headers(
    ops: Any, broker: Any
) -> None:
    tenant = uuid.uuid4()
    kept = _dead_letter(ops.status_queue, tenant, reason="r1", message_id="m-keep")
    replayed = _dead_letter(ops.status_queue, tenant, reason="r2", message_id="m-go")
    broker.publish(ops.dlq, [kept, replayed])
    assert broker.depth(ops.status_queue) == 0  # declared, as the consumer does

    result = ops("dlq", "replay", "m-go", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["count"] == 1
    assert report["dry_run"] is False

    [back] = broker.drain(ops.status_queue)
    assert back.body == replayed.body
    assert back.message_id == "m-go"
    assert back.content_type == "application/json"
    assert back.timestamp == datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    # The headers it first arrived with; the consumer's own three are gone (a fresh attempt count).
    assert back.headers == {"traceparent": TRACEPARENT, "x-publisher": "itsm-sync"}
    assert back.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert [m.message_id for m in broker.drain(ops.dlq)] == ["m-keep"]


def test_replay_refuses_while_the_status_queue_does_not_exist(ops: Any, broker: Any) -> None:
    broker.publish(
        ops.dlq, [_dead_letter(ops.status_queue, uuid.uuid4(), reason="r", message_id="m-1")]
    )
    result = ops("dlq", "replay", "m-1")
    assert result.exit_code == 1
    assert "start status-consumer" in result.stderr
    assert [m.message_id for m in broker.drain(ops.dlq)] == ["m-1"]


def test_replay_dry_run_changes_nothing(ops: Any, broker: Any) -> None:
    tenant = uuid.uuid4()
    assert broker.depth(ops.status_queue) == 0
    broker.publish(ops.dlq, [_dead_letter(ops.status_queue, tenant, reason="r", message_id="m-d")])
    result = ops("dlq", "replay", "--tenant", str(tenant), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "1 message(s) would be replayed" in result.stdout
    assert broker.depth(ops.status_queue) == 0
    assert broker.depth(ops.dlq) == 1


def test_replay_with_one_unknown_key_changes_nothing(ops: Any, broker: Any) -> None:
    broker.publish(
        ops.dlq, [_dead_letter(ops.status_queue, uuid.uuid4(), reason="r", message_id="m-1")]
    )
    assert broker.depth(ops.status_queue) == 0
    result = ops("dlq", "replay", "m-1", "m-missing")
    assert result.exit_code == 1
    assert "m-missing" in result.stderr
    assert broker.depth(ops.dlq) == 1
    assert broker.depth(ops.status_queue) == 0


def test_replay_or_purge_without_a_selection_is_refused(ops: Any) -> None:
    for command in ("replay", "purge"):
        result = ops("dlq", command)
        assert result.exit_code == 2
        assert "--all" in result.stderr


def test_purge_removes_only_the_named_tenants_messages(ops: Any, broker: Any) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    broker.publish(
        ops.dlq,
        [
            _dead_letter(ops.status_queue, a, reason="r", message_id="m-a1"),
            _dead_letter(ops.status_queue, b, reason="r", message_id="m-b1"),
            _dead_letter(ops.status_queue, a, reason="r", message_id="m-a2"),
        ],
    )
    dry = ops("dlq", "purge", "--tenant", str(a), "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert [m["key"] for m in json.loads(dry.stdout)["messages"]] == ["m-a1", "m-a2"]
    assert broker.depth(ops.dlq) == 3

    result = ops("dlq", "purge", "--tenant", str(a))
    assert result.exit_code == 0, result.output
    assert "2 message(s) purged" in result.stdout
    assert [m.message_id for m in broker.drain(ops.dlq)] == ["m-b1"]
    assert broker.depth(ops.status_queue) == 0


def test_purge_all_empties_the_queue(ops: Any, broker: Any) -> None:
    broker.publish(
        ops.dlq, [_dead_letter(ops.status_queue, uuid.uuid4(), reason="r") for _ in range(3)]
    )
    result = ops("dlq", "purge", "--all", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["count"] == 3
    assert broker.depth(ops.dlq) == 0
