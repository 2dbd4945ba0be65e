"""Verify and import against fake-jira over real HTTP, with real RabbitMQ and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text

from fake_jira.testing import RunningFakeJira, running_fake_jira_server
from itsm_sync.config import Settings
from itsm_sync.migrate import migrate
from itsm_sync.service import Service
from rita_testing import eventually, free_port
from rita_testing.itsm_sync import (
    Collector,
    Flow,
    ItsmSync,
    asgi_client,
    ended,
    jira_verify_body,
    of_run,
    serving,
    sync_body,
)

EMAIL = "agent@example.com"
TOKEN = "ATATT-itsm-sync-test-token-7f3e9a"
NOBROWSE = "viewer@example.com"
ACCOUNTS = f"{EMAIL}:{TOKEN},{NOBROWSE}:{TOKEN}-nb:nobrowse"


@pytest.fixture
async def jira() -> AsyncIterator[RunningFakeJira]:
    """fake-jira on a free loopback port with 2,000 issues over the last year."""
    async with running_fake_jira_server(issues=2000, days=365, accounts=ACCOUNTS) as running:
        yield running


def jira_settings(
    make_settings: Callable[..., Settings], jira: RunningFakeJira, **extra: Any
) -> Settings:
    host = jira.base_url.removeprefix("http://")
    return make_settings(jira_allowed_private_hosts=host, **extra)


@dataclass
class JiraFlow(Flow):
    """A flow test's pieces and its fake-jira."""

    jira: RunningFakeJira


@pytest.fixture
async def flow(
    make_settings: Callable[..., Settings],
    messages: Collector,
    ids: dict[str, str],
    jira: RunningFakeJira,
) -> AsyncIterator[JiraFlow]:
    """A started itsm-sync allowed to call this fake-jira, and the pieces of one flow test."""
    async with serving(jira_settings(make_settings, jira)) as (svc, http):
        yield JiraFlow(svc=svc, http=http, messages=messages, ids=ids, jira=jira)


def verify_body(
    ids: dict[str, str], base_url: str, email: str = EMAIL, token: str = TOKEN
) -> bytes:
    return jira_verify_body(ids, base_url, email, token)


async def verified(flow: JiraFlow, ids: dict[str, str] | None = None) -> dict[str, Any]:
    """Verify the fake-jira account (as `ids`, default the flow's); the answer on the queue."""
    ids = ids or flow.ids
    return await flow.verification(verify_body(ids, flow.jira.base_url), ids["connection_id"])


async def test_good_credentials_succeed_with_options(flow: JiraFlow) -> None:
    svc, ids = flow.svc, flow.ids
    message = await verified(flow)
    assert message["status"] == "success", message
    options = message["options"]
    assert options["projects"]
    assert all(set(p) == {"key", "name"} for p in options["projects"])
    assert {"id": "10001", "name": "Incident"} in options["issue_types"]
    assert all(set(s) == {"id", "name"} for s in options["statuses"])
    key = (uuid.UUID(ids["tenant_id"]), uuid.UUID(ids["connection_id"]), "jira_itsm")
    stored = await svc.deps.store.load_credentials(key)
    assert stored is not None
    assert TOKEN.encode() not in stored.ciphertext


async def test_bad_token_is_authentication_failed_and_never_leaks(
    flow: JiraFlow,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    scan_database: Callable[[Service, str], Awaitable[list[str]]],
) -> None:
    svc, messages, ids, jira = flow.svc, flow.messages, flow.ids, flow.jira
    wrong = "ATATT-wrong-token-should-never-appear-91c2"
    await flow.post(verify_body(ids, jira.base_url, token=wrong))
    got = await messages(lambda m: any(x["connection_id"] == ids["connection_id"] for x in m), 20.0)
    message = got[0]
    assert message["status"] == "failed"
    assert message["error_detail"] == {"error_code": "auth_failed"}
    assert "401" in message["error"]
    # Also store good credentials, so the scan covers a real ciphertext row.
    good_ids = {**ids, "connection_id": str(uuid.uuid4())}
    assert (await verified(flow, good_ids))["status"] == "success"
    captured = capsys.readouterr()
    for secret in (wrong, TOKEN):
        assert secret not in json.dumps(got)
        assert secret not in captured.out + captured.err
        assert secret not in caplog.text
        assert await scan_database(svc, secret) == []


async def test_account_without_browse_permission_is_permission_denied(flow: JiraFlow) -> None:
    messages, ids, jira = flow.messages, flow.ids, flow.jira
    await flow.post(verify_body(ids, jira.base_url, email=NOBROWSE, token=f"{TOKEN}-nb"))
    got = await messages(lambda m: len(m) >= 1, 20.0)
    assert got[0]["status"] == "failed"
    assert got[0]["error_detail"] == {"error_code": "forbidden"}


async def test_site_that_does_not_answer_is_instance_unavailable(
    make_settings: Callable[..., Settings], messages: Collector, ids: dict[str, str]
) -> None:
    # An allowed host (through the older, Jira-only variable) with a port nobody listens on.
    port = free_port()
    async with serving(make_settings(jira_allowed_private_hosts=f"127.0.0.1:{port}")) as (
        service,
        http,
    ):
        sync = ItsmSync(svc=service, http=http, messages=messages)
        await sync.post(verify_body(ids, f"http://127.0.0.1:{port}"))
        got = await messages(lambda m: len(m) >= 1, 30.0)
    assert got[0]["status"] == "failed"
    assert got[0]["error_detail"] == {"error_code": "unreachable"}


def assert_progress(run_messages: list[dict[str, Any]]) -> None:
    """Counters never go down and timestamps never go back.

    The "at most 1 s apart" promise is kept by design (a 0.5 s heartbeat) and measured by
    bench/jira_import.py as `jira_import_progress_max_gap`: no timing assertion in a test.
    """
    processed = [m["records_processed"] for m in run_messages]
    assert processed == sorted(processed)
    stamps = [datetime.fromisoformat(m["timestamp"]) for m in run_messages]
    assert stamps == sorted(stamps)
    assert all(m["message_id"] for m in run_messages)


async def test_sync_of_2000_issues_reports_progress_and_completes(flow: JiraFlow) -> None:
    svc, messages, ids = flow.svc, flow.messages, flow.ids
    assert (await verified(flow))["status"] == "success"
    run_id = uuid.uuid4()
    await flow.post(sync_body(ids, run_id))
    got = of_run(run_id)(await messages(ended(run_id), 120.0))
    final = got[-1]
    assert final["status"] == "completed", final
    assert final["records_processed"] == final["total_estimated"] == 2000
    assert final["records_failed"] == 0
    running = [m for m in got if m["status"] == "running"]
    # One per stored batch of pages (pages that queue up behind a slow store go in together).
    steps = sorted({m["records_processed"] for m in running})
    assert len(steps) >= 3
    assert all(step % 100 == 0 for step in steps)  # whole pages of 100, never half a page
    assert_progress(got)
    tenant, connection = uuid.UUID(ids["tenant_id"]), uuid.UUID(ids["connection_id"])
    assert await svc.deps.store.count_tickets(tenant, connection) == 2000


async def test_sync_completes_through_a_429_storm(flow: JiraFlow) -> None:
    messages, ids, jira = flow.messages, flow.ids, flow.jira
    assert (await verified(flow))["status"] == "success"
    # Slower than the spacing the client derives from X-RateLimit-Limit, so 429s must happen.
    jira.configure(rate_limit=2, burst=3)
    run_id = uuid.uuid4()
    await flow.post(sync_body(ids, run_id, days=60))
    got = of_run(run_id)(await messages(ended(run_id), 120.0))
    assert got[-1]["status"] == "completed", got[-1]
    assert got[-1]["records_processed"] == got[-1]["total_estimated"]
    assert jira.stats()["rate_limited"] > 0
    assert_progress(got)


async def test_cancel_mid_run_stops_it_and_publishes_nothing_more(flow: JiraFlow) -> None:
    svc, messages, ids, jira = flow.svc, flow.messages, flow.ids, flow.jira
    assert (await verified(flow))["status"] == "success"
    jira.configure(latency_ms=60)
    run_id = uuid.uuid4()
    await flow.post(sync_body(ids, run_id))
    await messages(
        lambda m: any(x.get("records_processed", 0) > 0 for x in of_run(run_id)(m)), 60.0
    )
    cancel = json.dumps(
        {
            **ids,
            "source": "rita-chat",
            "action": "cancel_ingestion",
            "connection_type": "jira_itsm",
            "ingestion_run_id": str(run_id),
        }
    ).encode()
    await flow.post(cancel)

    async def stopped() -> bool:
        run = await svc.deps.store.get_run(run_id)
        return run is not None and run.status == "cancelled" and svc.runs.active_runs == 0

    await eventually(stopped, 30.0, what="run cancelled and its task ended")
    run = await svc.deps.store.get_run(run_id)
    assert run is not None
    assert run.records_processed < 2000
    # Flush: a later message on the same queue proves earlier ones were delivered.
    other = {**ids, "connection_id": str(uuid.uuid4())}
    await verified(flow, other)
    got = of_run(run_id)(await messages(lambda m: True, 1.0))
    assert all(m["status"] == "running" for m in got)
    assert max(m["records_processed"] for m in got) <= run.records_processed


async def test_restart_mid_run_resumes_without_duplicate_tickets(
    make_settings: Callable[..., Settings], database_factory: Callable[[str], str], flow: JiraFlow
) -> None:
    jira, messages, ids = flow.jira, flow.messages, flow.ids
    url = await asyncio.to_thread(database_factory, "itsm_restart")
    await asyncio.to_thread(migrate, url)
    settings = jira_settings(make_settings, jira, itsm_sync_database_url=url)
    first = Service(settings)
    await first.start()
    async with asgi_client(first) as http:
        on_first = replace(flow, svc=first, http=http)
        assert (await verified(on_first))["status"] == "success"
        jira.configure(latency_ms=60)
        run_id = uuid.uuid4()
        await on_first.post(sync_body(ids, run_id))
        await messages(
            lambda m: any(x.get("records_processed", 0) >= 300 for x in of_run(run_id)(m)), 60.0
        )
    await first.stop()  # like SIGTERM mid-run: the import is cancelled at its checkpoint
    stopped_at = await first_run_state(settings, run_id)
    assert stopped_at[0] == "running"
    assert 0 < stopped_at[1] < 2000
    jira.configure(latency_ms=0)
    second = Service(settings)
    await second.start()  # resumes the run from its checkpoint
    try:
        got = of_run(run_id)(await messages(ended(run_id), 120.0))
        assert got[-1]["status"] == "completed", got[-1]
        assert got[-1]["records_processed"] == 2000
        tenant, connection = uuid.UUID(ids["tenant_id"]), uuid.UUID(ids["connection_id"])
        assert await second.deps.store.count_tickets(tenant, connection) == 2000
        async with second.deps.store.sessions() as session:
            keys = await session.execute(text("SELECT count(DISTINCT ticket_key) FROM tickets"))
            assert keys.scalar_one() == 2000
    finally:
        await second.stop()


async def first_run_state(settings: Settings, run_id: uuid.UUID) -> tuple[str, int]:
    probe = Service(settings)
    try:
        run = await probe.deps.store.get_run(run_id)
        assert run is not None
        return run.status, run.records_processed
    finally:
        await probe.deps.http.aclose()
        await probe.engine.dispose()


async def test_unexpected_failure_still_answers_the_verification(
    flow: JiraFlow, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def database_gone(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("connection refused; params: fake-secret-in-a-driver-message")

    monkeypatch.setattr(flow.svc.deps.store, "save_credentials", database_gone)
    got = await verified(flow)
    assert got["status"] == "failed"
    assert got["error"] == "The sync service could not complete the verification; try again"
    assert "fake-secret" not in json.dumps(got)


async def test_scoped_import_imports_only_the_selected_project(flow: JiraFlow) -> None:
    assert (await verified(flow))["status"] == "success"
    dataset = flow.jira.state.dataset
    chosen = 1
    key = dataset.projects[chosen][0]
    expected = sum(1 for issue in dataset.issues if issue.project == chosen)
    assert 0 < expected < 2000
    run_id = uuid.uuid4()
    await flow.post(sync_body(flow.ids, run_id, project_keys=[key]))
    final = of_run(run_id)(await flow.messages(ended(run_id), 120.0))[-1]
    assert final["status"] == "completed", final
    assert final["records_processed"] == final["total_estimated"] == expected
    async with flow.svc.deps.store.sessions() as session:
        rows = await session.execute(
            text(
                "SELECT scope, source_type, count(*) FROM tickets "
                "WHERE connection_id = :c GROUP BY 1, 2"
            ),
            {"c": uuid.UUID(flow.ids["connection_id"])},
        )
        assert rows.all() == [(key, "jira_itsm", expected)]
