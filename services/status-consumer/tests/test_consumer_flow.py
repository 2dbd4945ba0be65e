"""The consumer in-process against the real RabbitMQ, PostgreSQL and Redis."""

from __future__ import annotations

import base64
import contextlib
import json
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID

import aio_pika
import httpx
import pytest
import sqlalchemy as sa
import structlog.testing
from asgi_lifespan import LifespanManager
from faststream.asgi import AsgiFastStream
from prometheus_client import REGISTRY
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from contracts import (
    ATTEMPT_HEADER,
    DEAD_LETTER_REASON_HEADER,
    EventName,
    Principal,
    Role,
    dead_letter_queue,
    tenant_events_key,
)
from events import decode_stream_entry
from rita_auth import issue_token
from rita_testing import eventually, lifespan_running
from rita_testing.rows import fetch_row, insert_connection, insert_run
from status_consumer.app import create_app
from status_consumer.config import Settings

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Harness:
    engine: AsyncEngine
    channel: aio_pika.abc.AbstractChannel
    queue: str
    redis: Redis
    prefix: str
    app: AsgiFastStream

    async def publish(
        self, *bodies: dict[str, Any] | bytes, headers: dict[str, Any] | None = None
    ) -> None:
        for body in bodies:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            message = aio_pika.Message(
                raw, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, headers=headers
            )
            await self.channel.default_exchange.publish(message, routing_key=self.queue)

    async def row(self, table: str, rid: UUID) -> dict[str, Any]:
        return await fetch_row(self.engine, table, rid)

    async def events(self, tenant: UUID) -> list[tuple[str, dict[str, Any]]]:
        entries = await self.redis.xrange(tenant_events_key(tenant, self.prefix)) or []
        decoded = [decode_stream_entry(i, f) for i, f in entries]
        return [(e.event.value, e.data) for e in decoded]

    async def dead_letters(
        self, expected: int, within: float = 15
    ) -> list[aio_pika.abc.AbstractIncomingMessage]:
        queue = await self.channel.declare_queue(dead_letter_queue(self.queue), durable=True)
        got: list[aio_pika.abc.AbstractIncomingMessage] = []

        async def check() -> bool:
            while (m := await queue.get(fail=False, no_ack=True)) is not None:
                got.append(m)
            return len(got) >= expected

        await eventually(check, within)
        return got


@pytest.fixture
async def harness(
    module_database_url: str, rabbitmq_url: str, redis_url: str, redis_prefix: str, queue_name: str
) -> AsyncIterator[Harness]:
    connection = await aio_pika.connect_robust(rabbitmq_url)
    channel = await connection.channel()
    # Declared as publishers declare it: plain durable, no arguments.
    await channel.declare_queue(queue_name, durable=True)
    settings = Settings(
        database_url=module_database_url,
        rabbitmq_url=rabbitmq_url,
        redis_url=redis_url,
        status_queue=queue_name,
        events_key_prefix=redis_prefix,
        batch_max_wait_ms=5,
        max_attempts=3,
        retry_max_backoff=0.5,
    )
    engine = create_async_engine(module_database_url)
    redis = Redis.from_url(redis_url)
    async with lifespan_running(create_app(settings)) as app:
        yield Harness(engine, channel, queue_name, redis, redis_prefix, app)
    await redis.aclose()
    await engine.dispose()
    await connection.close()


async def make_connection(h: Harness, status: str = "idle") -> tuple[UUID, UUID]:
    return await insert_connection(h.engine, status=status)


async def make_run(h: Harness, cid: UUID, tenant: UUID, status: str = "pending") -> UUID:
    return await insert_run(h.engine, cid, tenant, status)


def ticket(rid: UUID, tenant: UUID, status: str, n: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "ticket_ingestion",
        "ingestion_run_id": str(rid),
        "tenant_id": str(tenant),
        "status": status,
        "records_processed": n,
        "timestamp": (T0 + timedelta(seconds=n)).isoformat(),
        **extra,
    }


async def test_verification_success_updates_row_and_emits_event(harness: Harness) -> None:
    cid, tenant = await make_connection(harness, "verifying")
    options = {"projects": [{"key": "OPS", "name": "Operations"}]}
    await harness.publish(
        {
            "message_type": "verification",
            "connection_id": str(cid),
            "tenant_id": str(tenant),
            "status": "success",
            "options": options,
        }
    )

    async def done() -> bool:
        return bool((await harness.row("data_source_connections", cid))["status"] == "idle")

    await eventually(done)
    got = await harness.row("data_source_connections", cid)
    assert (got["enabled"], got["latest_options"]) == (True, options)
    await eventually(lambda: _has_events(harness, tenant, 1))
    [(name, data)] = await harness.events(tenant)
    assert name == EventName.DATA_SOURCE_UPDATE
    assert (data["id"], data["enabled"], data["status"]) == (str(cid), True, "idle")


async def test_result_of_an_older_verification_is_ignored_logged_and_counted(
    harness: Harness,
) -> None:
    cid, tenant = await make_connection(harness, "verifying")
    current, older = uuid.uuid4(), uuid.uuid4()
    async with harness.engine.begin() as c:
        await c.execute(
            sa.text("UPDATE data_source_connections SET verification_id = :v WHERE id = :id"),
            {"v": current, "id": cid},
        )
    stale = {"type": "verification", "outcome": "stale"}
    before = REGISTRY.get_sample_value("status_consumer_messages_total", stale) or 0.0
    body = {"type": "verification", "connection_id": str(cid), "tenant_id": str(tenant)}
    with structlog.testing.capture_logs() as logs:
        await harness.publish({**body, "status": "failed", "verification_id": str(older)})

        async def counted() -> bool:
            now = REGISTRY.get_sample_value("status_consumer_messages_total", stale) or 0.0
            return now == before + 1

        await eventually(counted)
    got = await harness.row("data_source_connections", cid)
    assert (got["status"], got["verification_id"], got["version"]) == ("verifying", current, 1)
    [ignored] = [e for e in logs if e["event"] == "verification_result_ignored"]
    assert (ignored["connection_id"], ignored["verification_id"]) == (str(cid), str(older))
    # The answer to the verification in flight applies.
    await harness.publish({**body, "status": "success", "verification_id": str(current)})

    async def applied() -> bool:
        return bool((await harness.row("data_source_connections", cid))["status"] == "idle")

    await eventually(applied)
    got = await harness.row("data_source_connections", cid)
    assert (got["enabled"], got["verification_id"], got["version"]) == (True, None, 2)


async def test_ready_only_while_the_subscriber_consumes(harness: Harness) -> None:
    transport = httpx.ASGITransport(app=harness.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://consumer") as client:

        async def ready() -> bool:
            return (await client.get("/readyz")).status_code == 200

        await eventually(ready)  # the subscriber starts once the lifespan has opened its clients
        body = (await client.get("/readyz")).json()
        assert body == {"ready": True, "consumer": True, "database": True, "broker": True}
        assert harness.app.broker is not None
        [subscriber] = harness.app.broker.subscribers
        await subscriber.stop()
        stopped = await client.get("/readyz")
        assert (stopped.status_code, stopped.json()["consumer"]) == (503, False)
        assert (await client.get("/healthz")).status_code == 200


async def _has_events(h: Harness, tenant: UUID, count: int) -> bool:
    return len(await h.events(tenant)) >= count


async def test_ticket_run_progress_and_end_with_events(harness: Harness) -> None:
    cid, tenant = await make_connection(harness, "syncing")
    rid = await make_run(harness, cid, tenant)
    await harness.publish(
        ticket(rid, tenant, "running", 10, total_estimated=40),
        ticket(rid, tenant, "running", 25),
        ticket(rid, tenant, "completed", 40),
    )

    async def done() -> bool:
        return bool((await harness.row("data_source_connections", cid))["status"] == "idle")

    await eventually(done)
    run = await harness.row("ingestion_runs", rid)
    assert (run["status"], run["records_processed"], run["total_estimated"]) == (
        "completed",
        40,
        40,
    )
    conn = await harness.row("data_source_connections", cid)
    assert (conn["last_sync_status"], conn["last_sync_at"]) == ("completed", run["completed_at"])
    await eventually(lambda: _has_events(harness, tenant, 2))
    events = await harness.events(tenant)
    runs = [d for n, d in events if n == EventName.INGESTION_RUN_UPDATE]
    conns = [d for n, d in events if n == EventName.DATA_SOURCE_UPDATE]
    assert runs[-1]["status"] == "completed"
    assert runs[-1]["records_processed"] == 40
    assert [c["status"] for c in conns] == ["idle"]


async def test_other_tenant_changes_nothing_and_is_logged_and_counted(harness: Harness) -> None:
    cid, tenant = await make_connection(harness, "syncing")
    rid = await make_run(harness, cid, tenant, "running")
    intruder = uuid.uuid4()
    mismatches = "status_consumer_tenant_mismatches_total"
    before = REGISTRY.get_sample_value(mismatches) or 0.0
    with structlog.testing.capture_logs() as logs:
        await harness.publish(ticket(rid, intruder, "completed", 5))
        # A marker for the owner, published after: once it is applied, so is the intruder's.
        await harness.publish(ticket(rid, tenant, "running", 1))

        async def marker() -> bool:
            return bool((await harness.row("ingestion_runs", rid))["records_processed"] == 1)

        async def counted() -> bool:
            # Counted and logged in one step after the commit (no await in between).
            return REGISTRY.get_sample_value(mismatches) == before + 1

        await eventually(marker)
        await eventually(counted)
    run = await harness.row("ingestion_runs", rid)
    assert (run["status"], run["completed_at"]) == ("running", None)
    assert (await harness.row("data_source_connections", cid))["status"] == "syncing"
    # The owner's stream holds the marker's event and nothing the intruder caused.
    await eventually(lambda: _has_events(harness, tenant, 1))
    events = await harness.events(tenant)
    assert [(n, d["status"], d["records_processed"]) for n, d in events] == [
        (EventName.INGESTION_RUN_UPDATE, "running", 1)
    ]
    assert REGISTRY.get_sample_value(mismatches) == before + 1
    [warning] = [e for e in logs if e["event"] == "security_tenant_mismatch"]
    assert warning == {
        "event": "security_tenant_mismatch",
        "log_level": "warning",
        "kind": "ingestion_run",
        "row_id": str(rid),
        "message_tenant_id": str(intruder),
        "row_tenant_id": str(tenant),
    }


async def test_late_completed_after_cancelled_changes_nothing(harness: Harness) -> None:
    cid, tenant = await make_connection(harness, "idle")
    rid = await make_run(harness, cid, tenant, "cancelled")
    before_conn = await harness.row("data_source_connections", cid)
    before_run = await harness.row("ingestion_runs", rid)
    other = await make_run(harness, cid, tenant, "running")
    await harness.publish(ticket(rid, tenant, "completed", 50), ticket(other, tenant, "running", 3))

    async def marker() -> bool:
        return bool((await harness.row("ingestion_runs", other))["records_processed"] == 3)

    await eventually(marker)
    assert await harness.row("ingestion_runs", rid) == before_run
    assert (await harness.row("data_source_connections", cid))["version"] == before_conn["version"]


@pytest.mark.parametrize(
    ("body", "reason_part"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"type": "verification", "tenant_id": "nope"}', "verification message"),
        (b'{"type": "weather", "tenant_id": "x"}', "unknown message type"),
    ],
)
async def test_garbage_goes_to_dead_letter_queue_with_reason(
    harness: Harness, body: bytes, reason_part: str
) -> None:
    cid, tenant = await make_connection(harness, "verifying")
    await harness.publish(body, headers={"x-origin": "test"})
    [dead] = await harness.dead_letters(1)
    assert dead.body == body
    assert reason_part in str(dead.headers[DEAD_LETTER_REASON_HEADER])
    assert dead.headers["x-origin"] == "test"
    # The consumer keeps going.
    await harness.publish(
        {
            "type": "verification",
            "connection_id": str(cid),
            "tenant_id": str(tenant),
            "status": "failed",
        }
    )

    async def applied() -> bool:
        return bool((await harness.row("data_source_connections", cid))["status"] == "idle")

    await eventually(applied)


@contextlib.asynccontextmanager
async def failing_updates(h: Harness, rid: UUID, sqlstate: str) -> AsyncIterator[None]:
    """Every UPDATE of run `rid` fails with `sqlstate` (a trigger on this run only)."""
    name = f"fail_{uuid.uuid4().hex[:12]}"
    async with h.engine.begin() as c:
        await c.execute(
            sa.text(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                f" IF NEW.id = '{rid}' THEN RAISE EXCEPTION 'refused by test'"
                f" USING ERRCODE = '{sqlstate}'; END IF; RETURN NEW; END $$"
            )
        )
        await c.execute(
            sa.text(
                f"CREATE TRIGGER {name} BEFORE UPDATE ON ingestion_runs"
                f" FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
        )
    try:
        yield
    finally:
        async with h.engine.begin() as c:
            await c.execute(sa.text(f"DROP TRIGGER {name} ON ingestion_runs"))
            await c.execute(sa.text(f"DROP FUNCTION {name}()"))


async def test_failing_message_is_retried_then_dead_lettered_alone(harness: Harness) -> None:
    cid, tenant = await make_connection(harness, "syncing")
    rid = await make_run(harness, cid, tenant, "running")
    other_cid, other_tenant = await make_connection(harness, "syncing")
    other = await make_run(harness, other_cid, other_tenant, "running")
    poison = ticket(rid, tenant, "running", 3)
    good = ticket(other, other_tenant, "running", 7)
    # P0001 (raise_exception): not the data's fault, so it may work on another attempt.
    async with failing_updates(harness, rid, "P0001"):
        await harness.publish(poison, good)
        [dead] = await harness.dead_letters(1, within=30)
    assert json.loads(dead.body) == poison
    assert "failed 3 times" in str(dead.headers[DEAD_LETTER_REASON_HEADER])
    assert (await harness.row("ingestion_runs", other))["records_processed"] == 7
    assert (await harness.row("ingestion_runs", rid))["records_processed"] == 0


async def test_data_the_database_refuses_is_dead_lettered_at_once(harness: Harness) -> None:
    cid, tenant = await make_connection(harness, "syncing")
    rid = await make_run(harness, cid, tenant, "running")
    other_cid, other_tenant = await make_connection(harness, "syncing")
    other = await make_run(harness, other_cid, other_tenant, "running")
    before = REGISTRY.get_sample_value("status_consumer_requeued_total") or 0.0
    # 22003 numeric_value_out_of_range: a data exception, the same on every attempt.
    async with failing_updates(harness, rid, "22003"):
        await harness.publish(
            ticket(rid, tenant, "running", 3), ticket(other, other_tenant, "running", 7)
        )
        [dead] = await harness.dead_letters(1, within=30)
    reason = str(dead.headers[DEAD_LETTER_REASON_HEADER])
    assert "refused by test" in reason
    assert "failed" not in reason  # not after attempts: at once
    assert ATTEMPT_HEADER not in dead.headers
    assert (REGISTRY.get_sample_value("status_consumer_requeued_total") or 0.0) == before
    assert (await harness.row("ingestion_runs", other))["records_processed"] == 7


async def test_message_for_the_wrong_kind_of_connection_is_dead_lettered(
    harness: Harness,
) -> None:
    cid, tenant = await make_connection(harness, "syncing")  # jira_itsm: an ITSM source
    rid = await make_run(harness, cid, tenant, "running")
    before = await harness.row("data_source_connections", cid)
    wrong = {
        "type": "sync",
        "connection_id": str(cid),
        "tenant_id": str(tenant),
        "status": "sync_completed",
    }
    await harness.publish(wrong, ticket(rid, tenant, "running", 5))
    [dead] = await harness.dead_letters(1)
    assert json.loads(dead.body) == wrong
    assert "not a knowledge source" in str(dead.headers[DEAD_LETTER_REASON_HEADER])
    assert ATTEMPT_HEADER not in dead.headers

    async def marker() -> bool:
        return bool((await harness.row("ingestion_runs", rid))["records_processed"] == 5)

    await eventually(marker)
    assert await harness.row("data_source_connections", cid) == before
    names = [n for n, _ in await harness.events(tenant)]
    assert names == [EventName.INGESTION_RUN_UPDATE]


async def test_shuffled_duplicated_stream_ends_in_order_state(harness: Harness) -> None:
    rng = random.Random(7)
    expected: dict[UUID, int] = {}
    bodies: list[dict[str, Any]] = []
    runs: list[tuple[UUID, UUID, UUID]] = []
    for _ in range(20):
        cid, tenant = await make_connection(harness, "syncing")
        rid = await make_run(harness, cid, tenant)
        runs.append((cid, tenant, rid))
        steps = sorted(rng.sample(range(1, 500), 6))
        bodies += [ticket(rid, tenant, "running", n) for n in steps[:-1]]
        bodies.append(ticket(rid, tenant, "completed", steps[-1], message_id=str(uuid.uuid4())))
        expected[rid] = steps[-1]
    bodies += rng.sample(bodies, 40)
    rng.shuffle(bodies)
    await harness.publish(*bodies)

    async def all_done() -> bool:
        async with harness.engine.connect() as c:
            n = await c.execute(
                sa.text(
                    "SELECT count(*) FROM ingestion_runs"
                    " WHERE id = ANY(:ids) AND status = 'completed'"
                ),
                {"ids": list(expected)},
            )
            return bool(n.scalar_one() == len(expected))

    await eventually(all_done, 30)
    for cid, _tenant, rid in runs:
        run = await harness.row("ingestion_runs", rid)
        conn = await harness.row("data_source_connections", cid)
        assert run["records_processed"] == expected[rid]
        assert (conn["status"], conn["last_sync_status"], conn["version"]) == (
            "idle",
            "completed",
            2,
        )


@pytest.fixture
async def api(
    module_database_url: str, redis_url: str, redis_prefix: str
) -> AsyncIterator[httpx.AsyncClient]:
    """connections-api in-process (its lifespan run) on the same database and Redis prefix."""
    from connections_api.app import create_app as create_api
    from connections_api.config import Settings as ApiSettings

    settings = ApiSettings(
        database_url=module_database_url,
        redis_url=redis_url,
        events_key_prefix=redis_prefix,
        auth_jwt_secret=SecretStr(API_JWT_SECRET),
        sync_webhook_url="http://127.0.0.1:9/unused",
        sync_webhook_secret=SecretStr(
            "whsec_" + base64.b64encode(b"parity-test-secret-32-bytes-long").decode()
        ),
        reaper_interval=3600,
        outbox_poll_interval=3600,
    )
    app = create_api(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


API_JWT_SECRET = "status-consumer-parity-test-secret-0123456789"


async def raw_event_data(h: Harness, tenant: UUID) -> list[tuple[str, bytes]]:
    """(event name, the `data` field exactly as stored) for the tenant's events, oldest first."""
    entries = cast(
        list[tuple[bytes, dict[bytes, bytes]]],
        await h.redis.xrange(tenant_events_key(tenant, h.prefix)) or [],
    )
    return [(fields[b"event"].decode(), fields[b"data"]) for _id, fields in entries]


async def test_rest_body_and_event_of_a_row_are_byte_identical(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    cid, tenant = await make_connection(harness, "verifying")
    rid = await make_run(harness, cid, tenant, "running")
    principal = Principal(sub="u-1", email="u@example.com", tenant_id=tenant, role=Role.MEMBER)
    token = issue_token(API_JWT_SECRET, principal, ttl_seconds=600)
    headers = {"Authorization": f"Bearer {token}"}
    # Whole seconds (the case SQL-built JSON once wrote as `.000000Z`), non-ASCII text, an array.
    await harness.publish(
        {
            "message_type": "verification",
            "connection_id": str(cid),
            "tenant_id": str(tenant),
            "status": "success",
            "options": [{"key": "IT", "name": "Soporte técnico ✓"}],
            "timestamp": "2026-01-02T03:04:05Z",
        },
        ticket(
            rid,
            tenant,
            "failed",
            12,
            error='Jira "down" \u2028 ¿?',
            error_detail={"error_code": "timed_out"},
        ),
    )

    async def both_applied() -> bool:
        # One batch or two: the connection's last event carries both changes either way.
        events = await harness.events(tenant)
        conns = [d for n, d in events if n == EventName.DATA_SOURCE_UPDATE]
        runs = [d for n, d in events if n == EventName.INGESTION_RUN_UPDATE]
        return bool(runs and conns and conns[-1]["last_sync_status"] == "failed")

    await eventually(both_applied)
    events = await raw_event_data(harness, tenant)
    [run_data] = [d for n, d in events if n == EventName.INGESTION_RUN_UPDATE]
    conn_data = [d for n, d in events if n == EventName.DATA_SOURCE_UPDATE][-1]

    connection = await api.get(f"/api/data-sources/{cid}", headers=headers)
    latest = await api.get(f"/api/data-sources/{cid}/ingestion-runs/latest", headers=headers)
    assert (connection.status_code, latest.status_code) == (200, 200)
    assert connection.content == conn_data
    assert latest.content == run_data
    # And they say what happened (not two equal empty answers).
    assert json.loads(conn_data)["last_verified_at"] == "2026-01-02T03:04:05Z"
    assert json.loads(run_data)["error_code"] == "timeout"
