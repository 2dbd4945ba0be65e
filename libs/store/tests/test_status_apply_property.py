"""Property: shuffled, duplicated, arbitrarily batched messages end in the in-order state."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from contracts import StatusMessage, parse_status_message
from store import apply_status_batch
from store.testing import insert_syncing_runs

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RUN_FIELDS = (
    "status",
    "records_processed",
    "records_failed",
    "total_estimated",
    "completed_at",
    "error_message",
    "error_detail",
)
CONN_FIELDS = (
    "status",
    "enabled",
    "last_sync_at",
    "last_sync_status",
    "last_sync_error",
    "last_verification_error",
    "version",
)

# One run's story: progress steps (counters only rise) and maybe an end carrying the final counters.
run_story = st.tuples(
    st.lists(st.integers(min_value=0, max_value=50), min_size=0, max_size=5),
    st.sampled_from([None, "completed", "failed", "failed_auth"]),
    st.booleans(),  # whether the publisher sets message ids
)


def story_messages(index: int, story: tuple[list[int], str | None, bool]) -> list[dict[str, Any]]:
    steps, end, with_ids = story
    total, out = 0, []
    for n, step in enumerate(steps):
        total += step
        out.append({"status": "running", "records_processed": total, "records_failed": n})
    if end is not None:
        body: dict[str, Any] = {"status": "completed" if end == "completed" else "failed"}
        body |= {"records_processed": total, "records_failed": len(steps)}
        if end == "failed":
            body |= {"error_message": "Jira down", "error_detail": {"error_code": "timed_out"}}
        elif end == "failed_auth":
            body |= {"error_message": "Token rejected"}
        out.append(body)
    for seq, body in enumerate(out):
        body["timestamp"] = (T0 + timedelta(minutes=index, seconds=seq)).isoformat()
        body["total_estimated"] = 500
        if with_ids:
            body["message_id"] = f"{index}-{seq}"
    return out


async def seed(engine: AsyncEngine, count: int) -> list[tuple[UUID, UUID, UUID]]:
    """`count` syncing connections, each with one pending run: (tenant, connection, run)."""
    return await insert_syncing_runs(engine, count)


def bind(body: dict[str, Any], ids: tuple[UUID, UUID, UUID], namespace: str) -> StatusMessage:
    tenant, _cid, rid = ids
    full = {**body, "type": "ticket_ingestion", "tenant_id": str(tenant)}
    full["ingestion_run_id"] = str(rid)
    if "message_id" in full:
        full["message_id"] = f"{namespace}-{full['message_id']}"
    return parse_status_message(full)


async def snapshot(engine: AsyncEngine, made: list[tuple[UUID, UUID, UUID]]) -> list[Any]:
    async with engine.connect() as c:
        state = []
        for _tenant, cid, rid in made:
            run = await c.execute(sa.text("SELECT * FROM ingestion_runs WHERE id=:i"), {"i": rid})
            conn = await c.execute(
                sa.text("SELECT * FROM data_source_connections WHERE id=:i"), {"i": cid}
            )
            r, k = run.one()._mapping, conn.one()._mapping
            started = r["started_at"] if r["status"] in ("pending", "running") else None
            state.append(([r[f] for f in RUN_FIELDS], started, [k[f] for f in CONN_FIELDS]))
        return state


async def check(url: str, stories: list[Any], seed_value: int) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        rng = random.Random(seed_value)
        ordered_ids = await seed(engine, len(stories))
        shuffled_ids = await seed(engine, len(stories))
        ns = uuid.uuid4().hex
        # In order: one message per transaction, one run after another.
        for i, story in enumerate(stories):
            for body in story_messages(i, story):
                async with engine.begin() as c:
                    await apply_status_batch(c, [bind(body, ordered_ids[i], ns + "a")])
        # Shuffled, with duplicates, in random-sized batches.
        mixed = [
            bind(body, shuffled_ids[i], ns + "b")
            for i, story in enumerate(stories)
            for body in story_messages(i, story)
        ]
        mixed += rng.sample(mixed, k=len(mixed) // 2)
        rng.shuffle(mixed)
        while mixed:
            size = rng.randint(1, 12)
            batch, mixed = mixed[:size], mixed[size:]
            async with engine.begin() as c:
                await apply_status_batch(c, batch)
        assert await snapshot(engine, shuffled_ids) == await snapshot(engine, ordered_ids)
    finally:
        await engine.dispose()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(stories=st.lists(run_story, min_size=1, max_size=8), seed_value=st.integers(0, 2**16))
def test_shuffled_duplicated_batches_equal_in_order(
    rita_database_url: str, stories: list[Any], seed_value: int
) -> None:
    # Sync test: hypothesis drives the examples; each runs in its own short event loop.
    asyncio.run(check(rita_database_url, stories, seed_value))
