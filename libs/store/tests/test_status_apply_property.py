"""Property: any delivery (shuffled, duplicated) applied one by one or in random batches ends in
the state an independent model of DESIGN.md §5's rules predicts for that delivery.

The model (`Model`) is a small pure function of its own: it shares no code with `store`. Applying
one message per transaction (in order) and the batched, folded path must both equal it.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from contracts import parse_status_message
from rita_testing.rows import insert_syncing_runs
from store import apply_status_batch

T0 = datetime(2026, 1, 1, tzinfo=UTC)
REVERIFY = " — verify the credentials again"
# The codes the stories send, as the design's vocabulary names them (None: unknown code).
CODES = {"authentication_failed": "auth_failed", "timed_out": "timeout", "gremlins": None}
CREDENTIAL_CODES = {"auth_failed", "forbidden"}


# ---- the model --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    status: str = "pending"
    records_processed: int = 0
    records_failed: int = 0
    total_estimated: int | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    error_message: str | None = None
    error_code: str | None = None
    error_detail: dict[str, Any] | None = None


@dataclass(frozen=True)
class Connection:
    status: str
    enabled: bool
    verification_id: UUID | None = None
    latest_options: Any = None
    last_verification_at: datetime | None = None
    last_verified_at: datetime | None = None
    last_verification_error: str | None = None
    last_verification_error_code: str | None = None
    last_sync_at: datetime | None = None
    last_sync_status: str | None = None
    last_sync_error: str | None = None
    version: int = 1


@dataclass
class Model:
    """DESIGN.md §5 and §9, one message at a time."""

    runs: dict[UUID, Run] = field(default_factory=dict)
    run_connection: dict[UUID, UUID] = field(default_factory=dict)
    connections: dict[UUID, Connection] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)

    def apply(self, m: dict[str, Any]) -> None:
        if m.get("message_id") is not None:
            if m["message_id"] in self.seen:
                return  # a duplicate changes nothing
            self.seen.add(m["message_id"])
        if "ingestion_run_id" in m:
            self._ticket(m)
        else:
            self._verification(m)

    def _ticket(self, m: dict[str, Any]) -> None:
        rid = UUID(m["ingestion_run_id"])
        run = self.runs[rid]
        if run.status in ("completed", "failed", "cancelled"):
            return  # a terminal run never changes again
        ts = datetime.fromisoformat(m["timestamp"])
        run = replace(
            run,
            records_processed=max(run.records_processed, m.get("records_processed", 0)),
            records_failed=max(run.records_failed, m.get("records_failed", 0)),
            total_estimated=max(run.total_estimated or 0, m.get("total_estimated", 0)) or None,
        )
        if m["status"] == "running":
            started = ts if run.started_at is None else min(run.started_at, ts)
            self.runs[rid] = replace(run, status="running", started_at=started)
            return
        detail = m.get("error_detail")
        code = CODES.get((detail or {}).get("error_code", "gremlins"))
        error = m.get("error_message")
        self.runs[rid] = replace(
            run,
            status=m["status"],
            completed_at=ts,
            error_message=error,
            error_code=code,
            error_detail=detail,
        )
        cid = self.run_connection[rid]
        conn = self.connections[cid]
        change: dict[str, Any] = {"status": "idle", "version": conn.version + 1}
        if conn.last_sync_at is None or conn.last_sync_at <= ts:
            change |= {"last_sync_at": ts, "last_sync_status": m["status"]}
            change["last_sync_error"] = error
            if m["status"] == "failed" and code in CREDENTIAL_CODES:
                change |= {"enabled": False, "last_verification_error": f"{error}{REVERIFY}"}
                change["last_verification_error_code"] = code
        self.connections[cid] = replace(conn, **change)

    def _verification(self, m: dict[str, Any]) -> None:
        cid = UUID(m["connection_id"])
        conn = self.connections[cid]
        named = m.get("verification_id")
        if conn.status != "verifying":
            return
        if named is not None and UUID(named) != conn.verification_id:
            return  # the answer to an older request
        ts = datetime.fromisoformat(m["timestamp"])
        ok = m["status"] == "success"
        code = CODES.get((m.get("error_detail") or {}).get("error_code", "gremlins"))
        self.connections[cid] = replace(
            conn,
            status="idle",
            enabled=ok,
            verification_id=None,
            latest_options=m.get("options")
            if ok and m.get("options") is not None
            else (conn.latest_options),
            last_verification_at=ts,
            last_verified_at=ts if ok else conn.last_verified_at,
            last_verification_error=None if ok else (m.get("error") or "Verification failed"),
            last_verification_error_code=None if ok else code,
            version=conn.version + 1,
        )


# ---- stories ----------------------------------------------------------------------------------
run_story = st.tuples(
    st.lists(st.integers(min_value=0, max_value=50), min_size=0, max_size=5),
    st.sampled_from([None, "completed", "failed", "failed_auth", "cancelled"]),
    st.booleans(),  # whether the publisher sets message ids
)
verification_story = st.tuples(
    st.booleans(),  # whether a verification id is in flight
    st.lists(
        st.tuples(
            st.sampled_from(["success", "failed"]),
            st.sampled_from(["none", "current", "stale"]),
            st.sampled_from(["object", "array", "null"]),
            st.sampled_from(["authentication_failed", "timed_out", "gremlins"]),
        ),
        max_size=4,
    ),
    st.booleans(),  # message ids
)


def run_messages(index: int, story: Any, ids: tuple[UUID, UUID, UUID], ns: str) -> list[Any]:
    steps, end, with_ids = story
    tenant, _cid, rid = ids
    total, out = 0, []
    for n, step in enumerate(steps):
        total += step
        out.append({"status": "running", "records_processed": total, "records_failed": n})
    if end is not None:
        body: dict[str, Any] = {"status": "failed" if end.startswith("failed") else end}
        body |= {"records_processed": total, "records_failed": len(steps)}
        if end == "failed":
            body |= {"error_message": "Jira down", "error_detail": {"error_code": "timed_out"}}
        elif end == "failed_auth":
            body |= {
                "error_message": "Nope",
                "error_detail": {"error_code": "authentication_failed"},
            }
        out.append(body)
    for seq, body in enumerate(out):
        body |= {"type": "ticket_ingestion", "tenant_id": str(tenant), "ingestion_run_id": str(rid)}
        body["timestamp"] = (T0 + timedelta(minutes=index, seconds=seq)).isoformat()
        body["total_estimated"] = 500
        if with_ids:
            body["message_id"] = f"{ns}-r{index}-{seq}"
    return out


def verification_messages(
    index: int, story: Any, ids: tuple[UUID, UUID, UUID | None], ns: str
) -> list[Any]:
    _in_flight, results, with_ids = story
    tenant, cid, current = ids
    out = []
    for seq, (status, which, options, code) in enumerate(results):
        body: dict[str, Any] = {
            "message_type": "verification",
            "tenant_id": str(tenant),
            "connection_id": str(cid),
            "status": status,
            "timestamp": (T0 + timedelta(hours=1, minutes=index, seconds=seq)).isoformat(),
            "options": {"object": {"projects": [seq]}, "array": [{"key": f"K{seq}"}]}.get(options),
            "error": None if status == "success" else f"Refused {seq}",
            "error_detail": {"error_code": code},
        }
        if which == "current" and current is not None:
            body["verification_id"] = str(current)
        elif which == "stale":
            body["verification_id"] = str(uuid.uuid4())
        if with_ids:
            body["message_id"] = f"{ns}-v{index}-{seq}"
        out.append(body)
    return out


# ---- the database side ------------------------------------------------------------------------
async def seed_verifying(engine: AsyncEngine, stories: list[Any]) -> list[Any]:
    made = []
    async with engine.begin() as c:
        for in_flight, _results, _ids in stories:
            tenant, cid = uuid.uuid4(), uuid.uuid4()
            current = uuid.uuid4() if in_flight else None
            await c.execute(
                sa.text(
                    "INSERT INTO data_source_connections (id, tenant_id, type, name, status,"
                    " enabled, version, verification_id) VALUES (:id, :t, 'jira_itsm', 'J',"
                    " 'verifying', false, 1, :v)"
                ),
                {"id": cid, "t": tenant, "v": current},
            )
            made.append((tenant, cid, current))
    return made


RUN_COLUMNS = list(Run.__dataclass_fields__)
CONN_COLUMNS = list(Connection.__dataclass_fields__)


async def snapshot(engine: AsyncEngine, runs: list[UUID], conns: list[UUID]) -> list[Any]:
    async with engine.connect() as c:
        state: list[Any] = []
        for rid in runs:
            sql = sa.text("SELECT * FROM ingestion_runs WHERE id=:i")
            row = (await c.execute(sql, {"i": rid})).one()._mapping
            state.append(Run(**{k: row[k] for k in RUN_COLUMNS}))
        for cid in conns:
            sql = sa.text("SELECT * FROM data_source_connections WHERE id=:i")
            row = (await c.execute(sql, {"i": cid})).one()._mapping
            state.append(Connection(**{k: row[k] for k in CONN_COLUMNS}))
        return state


async def world(engine: AsyncEngine, runs: list[Any], verifications: list[Any], ns: str) -> Any:
    """Seed one copy of the rows; the delivery (in story order) and the model's start."""
    run_ids = await insert_syncing_runs(engine, len(runs))
    verify_ids = await seed_verifying(engine, verifications)
    model = Model()
    for _tenant, cid, rid in run_ids:
        model.runs[rid] = Run()
        model.run_connection[rid] = cid
        model.connections[cid] = Connection(status="syncing", enabled=True)
    for _tenant, cid, current in verify_ids:
        model.connections[cid] = Connection("verifying", enabled=False, verification_id=current)
    messages = [body for i, s in enumerate(runs) for body in run_messages(i, s, run_ids[i], ns)] + [
        body
        for i, s in enumerate(verifications)
        for body in verification_messages(i, s, verify_ids[i], ns)
    ]
    rows = (
        [r for _t, _c, r in run_ids],
        [c for _t, c, _r in run_ids] + [c for _t, c, _v in verify_ids],
    )
    return model, messages, rows


def shuffled_with_duplicates(messages: list[Any], rng: random.Random) -> list[Any]:
    delivery = messages + rng.sample(messages, k=len(messages) // 2)
    rng.shuffle(delivery)
    return delivery


async def check(url: str, runs: list[Any], verifications: list[Any], seed_value: int) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        ns = uuid.uuid4().hex
        for batched in (False, True):
            rng = random.Random(seed_value)
            model, messages, (run_ids, conn_ids) = await world(
                engine, runs, verifications, f"{ns}-{batched}"
            )
            delivery = shuffled_with_duplicates(messages, rng)
            for body in delivery:
                model.apply(body)
            expected = [model.runs[r] for r in run_ids] + [model.connections[c] for c in conn_ids]
            parsed = [parse_status_message(b) for b in delivery]
            while parsed:
                size = rng.randint(1, 12) if batched else 1
                batch, parsed = parsed[:size], parsed[size:]
                async with engine.begin() as c:
                    await apply_status_batch(c, batch)
            got = await snapshot(engine, run_ids, conn_ids)
            assert got == expected, "batched" if batched else "one by one"
    finally:
        await engine.dispose()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    runs=st.lists(run_story, min_size=1, max_size=6),
    verifications=st.lists(verification_story, max_size=4),
    seed_value=st.integers(0, 2**16),
)
def test_any_delivery_ends_where_the_model_says(
    rita_database_url: str, runs: list[Any], verifications: list[Any], seed_value: int
) -> None:
    # Sync test: hypothesis drives the examples; each runs in its own short event loop.
    asyncio.run(check(rita_database_url, runs, verifications, seed_value))
