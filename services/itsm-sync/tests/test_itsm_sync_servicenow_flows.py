"""Verify and import against fake-servicenow over real HTTP, with real RabbitMQ and PostgreSQL.

Every verify outcome, an import under churn (0 lost, 0 duplicated), a scoped import, a 429 storm,
a cancel and a SIGKILL mid-import that resumes from the checkpoint.
"""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contracts import VerifyCredentialsWebhook
from emulator.server import serve_in_process
from fake_servicenow.testing import (
    DEV_PASSWORD,
    DEV_USER,
    NO_INCIDENTS_PASSWORD,
    NO_INCIDENTS_USER,
    RunningFakeServiceNow,
    running_fake_servicenow,
)
from itsm_sync.config import Settings
from itsm_sync.migrate import migrate
from itsm_sync.service import Service
from rita_testing import eventually, free_port
from rita_testing.itsm_sync import (
    Collector,
    Flow,
    ended,
    of_run,
    process_env,
    serving,
    sync_body,
)
from rita_testing.stack import Stack

INCIDENTS = 2000


@pytest.fixture
async def snow() -> AsyncIterator[RunningFakeServiceNow]:
    """fake-servicenow on a free loopback port: 2,000 incidents over the last year."""
    async with running_fake_servicenow(incidents=INCIDENTS, days=365) as running:
        yield running


def host_of(url: str) -> str:
    return url.split("://", 1)[1]


@dataclass
class SnowFlow(Flow):
    """A flow test's pieces and its fake-servicenow."""

    snow: RunningFakeServiceNow


@pytest.fixture
async def flow(
    make_settings: Callable[..., Settings],
    messages: Collector,
    ids: dict[str, str],
    snow: RunningFakeServiceNow,
) -> AsyncIterator[SnowFlow]:
    """A started itsm-sync allowed to call this fake-servicenow (through the general list), and
    the pieces of one flow test."""
    async with serving(make_settings(allowed_private_hosts=host_of(snow.base_url))) as (svc, http):
        yield SnowFlow(svc=svc, http=http, messages=messages, ids=ids, snow=snow)


def verify_body(
    ids: dict[str, str],
    instance_url: str,
    username: str = DEV_USER,
    password: str = DEV_PASSWORD,
    verification_id: str | None = None,
) -> bytes:
    return VerifyCredentialsWebhook.model_validate(
        {
            **ids,
            "connection_type": "servicenow",
            "credentials": {"username": username, "password": password},
            "settings": {"instance_url": instance_url, "username": username},
            "verification_id": verification_id,
        }
    ).to_wire()


def snow_sync(ids: dict[str, str], run_id: uuid.UUID, days: int = 365, **scope: Any) -> bytes:
    return sync_body(ids, run_id, connection_type="servicenow", days=days, **scope)


async def verification(
    flow: Flow, body: bytes, ids: dict[str, str] | None = None
) -> dict[str, Any]:
    """Post a verify webhook as `ids` (default the flow's); its answer on the queue."""
    return await flow.verification(body, (ids or flow.ids)["connection_id"])


def incidents(snow: RunningFakeServiceNow) -> list[dict[str, str]]:
    return list(snow.state.dataset.tables["incident"])


async def test_verify_succeeds_with_groups_count_and_the_echoed_id(flow: SnowFlow) -> None:
    snow = flow.snow
    verification_id = str(uuid.uuid4())
    # A link into the instance's UI is reduced to the instance base.
    body = verify_body(
        flow.ids, snow.base_url + "/now/nav/ui/classic", verification_id=verification_id
    )
    message = await verification(flow, body)
    assert message["status"] == "success", message
    groups = snow.state.dataset.tables["sys_user_group"]
    assert message["options"]["assignment_groups"] == sorted(
        ({"id": g["sys_id"], "name": g["name"]} for g in groups),
        key=lambda g: (g["name"].lower(), g["id"]),
    )
    since = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
    recent = [i for i in incidents(snow) if i["sys_updated_on"] >= since]
    assert 0 < message["options"]["incident_count"] == len(recent) < INCIDENTS
    assert message["verification_id"] == verification_id
    key = (uuid.UUID(flow.ids["tenant_id"]), uuid.UUID(flow.ids["connection_id"]), "servicenow")
    stored = await flow.svc.deps.store.load_credentials(key)
    assert stored is not None
    assert stored.base_url == snow.base_url
    assert stored.settings == {"instance_url": snow.base_url, "username": DEV_USER}
    assert DEV_PASSWORD.encode() not in stored.ciphertext


async def test_wrong_password_is_auth_failed_and_never_leaks(
    flow: SnowFlow,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    scan_database: Callable[[Service, str], Awaitable[list[str]]],
) -> None:
    wrong = "wrong-servicenow-password-should-never-appear-5b1"
    message = await verification(flow, verify_body(flow.ids, flow.snow.base_url, password=wrong))
    assert message["status"] == "failed"
    assert message["error_detail"] == {"error_code": "auth_failed"}
    assert message["error"] == "ServiceNow rejected the user name or password (401)"
    assert "verification_id" not in message  # none in the webhook: none in the answer
    good = {**flow.ids, "connection_id": str(uuid.uuid4())}
    ok = await verification(flow, verify_body(good, flow.snow.base_url), good)
    assert ok["status"] == "success"
    captured = capsys.readouterr()
    for secret in (wrong, DEV_PASSWORD):
        assert secret not in json.dumps([message, ok])
        assert secret not in captured.out + captured.err + caplog.text
        assert await scan_database(flow.svc, secret) == []


async def test_account_that_cannot_read_incidents_is_forbidden(flow: SnowFlow) -> None:
    body = verify_body(flow.ids, flow.snow.base_url, NO_INCIDENTS_USER, NO_INCIDENTS_PASSWORD)
    message = await verification(flow, body)
    assert message["status"] == "failed"
    assert message["error_detail"] == {"error_code": "forbidden"}
    assert "cannot read incidents" in message["error"]


def _site(answer: Response) -> Starlette:
    async def anything(_request: Request) -> Response:
        return answer

    return Starlette(routes=[Route("/{path:path}", anything)])


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (Response("<html><body>Welcome</body></html>", media_type="text/html"), "text/html"),
        (Response('{"data": []}', media_type="application/json"), "result"),
        (Response('{"result": [', media_type="application/json"), "invalid JSON"),
        (Response("Not here", status_code=404), "404"),
    ],
)
async def test_a_site_that_is_not_servicenow_is_named_clearly(
    make_settings: Callable[..., Settings],
    messages: Collector,
    ids: dict[str, str],
    answer: Response,
    why: str,
) -> None:
    async with (
        serve_in_process(_site(answer)) as other,
        serving(make_settings(allowed_private_hosts=host_of(other))) as (service, http),
    ):
        flow = Flow(svc=service, http=http, messages=messages, ids=ids)
        message = await verification(flow, verify_body(ids, other))
    assert message["status"] == "failed"
    assert message["error_detail"] == {"error_code": "not_found"}
    assert "does not look like a ServiceNow instance" in message["error"]
    assert why in message["error"]


async def test_an_instance_that_does_not_answer_is_unreachable(
    make_settings: Callable[..., Settings],
    messages: Collector,
    ids: dict[str, str],
) -> None:
    port = free_port()
    settings = make_settings(allowed_private_hosts=f"127.0.0.1:{port}")
    async with serving(settings) as (service, http):
        flow = Flow(svc=service, http=http, messages=messages, ids=ids)
        message = await verification(flow, verify_body(ids, f"http://127.0.0.1:{port}"))
    assert message["status"] == "failed"
    assert message["error_detail"] == {"error_code": "unreachable"}
    assert "Could not connect to the ServiceNow instance" in message["error"]


async def test_an_instance_too_slow_to_answer_is_timeout(
    make_settings: Callable[..., Settings], messages: Collector, ids: dict[str, str]
) -> None:
    async with running_fake_servicenow(incidents=10, latency_ms=3000) as slow:
        settings = make_settings(
            allowed_private_hosts=host_of(slow.base_url), itsm_sync_http_timeout=0.2
        )
        async with serving(settings) as (service, http):
            flow = Flow(svc=service, http=http, messages=messages, ids=ids)
            message = await verification(flow, verify_body(ids, slow.base_url))
    assert message["status"] == "failed"
    assert message["error_detail"] == {"error_code": "timeout"}
    assert "did not answer in time" in message["error"]


async def stored_tickets(svc: Service, connection_id: str) -> list[tuple[str, str, str]]:
    async with svc.deps.store.sessions() as session:
        rows = await session.execute(
            text("SELECT external_id, source_type, scope FROM tickets WHERE connection_id = :c"),
            {"c": uuid.UUID(connection_id)},
        )
        return [(row[0], row[1], row[2]) for row in rows.all()]


async def test_import_under_churn_loses_and_duplicates_nothing(flow: SnowFlow) -> None:
    assert (await verification(flow, verify_body(flow.ids, flow.snow.base_url)))["status"] == (
        "success"
    )
    expected = {incident["sys_id"] for incident in incidents(flow.snow)}
    # Every page answered moves 25 incidents to the end of the order, as agents working during
    # the import would: offset paging would lose some and read others twice.
    flow.snow.state.churn_per_page = 25
    run_id = uuid.uuid4()
    await flow.post(snow_sync(flow.ids, run_id))
    got = of_run(run_id)(await flow.messages(ended(run_id), 120.0))
    final = got[-1]
    assert final["status"] == "completed", final
    assert flow.snow.state.churned_total >= 20 * 25
    stored = await stored_tickets(flow.svc, flow.ids["connection_id"])
    ids = [sys_id for sys_id, _, _ in stored]
    assert len(ids) == len(set(ids))  # 0 duplicated
    assert set(ids) == expected  # 0 lost
    assert final["records_processed"] == INCIDENTS
    assert final["total_estimated"] == INCIDENTS
    assert final["records_failed"] == 0
    assert {source for _, source, _ in stored} == {"servicenow"}
    processed = [m["records_processed"] for m in got]
    assert processed == sorted(processed)


async def test_scoped_import_reads_only_the_chosen_groups(flow: SnowFlow) -> None:
    assert (await verification(flow, verify_body(flow.ids, flow.snow.base_url)))["status"] == (
        "success"
    )
    chosen = flow.snow.state.dataset.tables["sys_user_group"][1]["sys_id"]
    expected = {i["sys_id"] for i in incidents(flow.snow) if i["assignment_group"] == chosen}
    assert 0 < len(expected) < INCIDENTS
    run_id = uuid.uuid4()
    await flow.post(snow_sync(flow.ids, run_id, assignment_group_ids=[chosen]))
    final = of_run(run_id)(await flow.messages(ended(run_id), 120.0))[-1]
    assert final["status"] == "completed", final
    assert final["records_processed"] == final["total_estimated"] == len(expected)
    stored = await stored_tickets(flow.svc, flow.ids["connection_id"])
    assert {sys_id for sys_id, _, _ in stored} == expected
    assert {scope for _, _, scope in stored} == {chosen}


async def test_import_completes_through_a_429_storm(flow: SnowFlow) -> None:
    assert (await verification(flow, verify_body(flow.ids, flow.snow.base_url)))["status"] == (
        "success"
    )
    # Refilled slower than the spacing derived from X-RateLimit-Limit, so 429s must happen.
    flow.snow.configure(rate_limit=2, burst=4)
    run_id = uuid.uuid4()
    await flow.post(snow_sync(flow.ids, run_id, days=90))
    got = of_run(run_id)(await flow.messages(ended(run_id), 120.0))
    assert got[-1]["status"] == "completed", got[-1]
    assert got[-1]["records_processed"] == got[-1]["total_estimated"] > 0
    assert flow.snow.stats()["rate_limited"] > 0


async def test_cancel_mid_import_stops_it_and_publishes_nothing_more(flow: SnowFlow) -> None:
    assert (await verification(flow, verify_body(flow.ids, flow.snow.base_url)))["status"] == (
        "success"
    )
    gate = flow.snow.state.core.gate
    gate.close(after=3)  # three pages pass, the fourth waits at the instance
    run_id = uuid.uuid4()
    await flow.post(snow_sync(flow.ids, run_id))
    assert await gate.wait_held()
    cancel = json.dumps(
        {
            **flow.ids,
            "source": "rita-chat",
            "action": "cancel_ingestion",
            "connection_type": "servicenow",
            "ingestion_run_id": str(run_id),
        }
    ).encode()
    await flow.post(cancel)

    async def stopped() -> bool:
        run = await flow.svc.deps.store.get_run(run_id)
        return run is not None and run.status == "cancelled"

    await eventually(stopped, 30.0, what="run cancelled")
    gate.open()
    await eventually(lambda: flow.svc.runs.active_runs == 0, 30.0, what="run task ended")
    run = await flow.svc.deps.store.get_run(run_id)
    assert run is not None
    assert 0 < run.records_processed < INCIDENTS
    # Flush: a later message on the same queue proves earlier ones were delivered.
    other = {**flow.ids, "connection_id": str(uuid.uuid4())}
    await verification(flow, verify_body(other, flow.snow.base_url), other)
    got = of_run(run_id)(await flow.messages(lambda m: True, 1.0))
    assert all(m["status"] == "running" for m in got)
    assert max(m["records_processed"] for m in got) <= run.records_processed


async def test_sigkill_mid_import_resumes_from_the_checkpoint(
    make_settings: Callable[..., Settings],
    database_factory: Callable[[str], str],
    messages: Any,
    ids: dict[str, str],
    snow: RunningFakeServiceNow,
) -> None:
    url = await asyncio.to_thread(database_factory, "itsm_kill")
    await asyncio.to_thread(migrate, url)
    settings = make_settings(
        itsm_sync_database_url=url, allowed_private_hosts=host_of(snow.base_url)
    )
    gate = snow.state.core.gate
    probe = Service(settings)  # not started: its store reads the database, its settings sign
    # itsm-sync as its own process, so it can be SIGKILLed.
    stack = Stack(env={**process_env(settings), "LOG_LEVEL": "WARNING"})
    try:
        first = await asyncio.to_thread(stack.start, "itsm-sync")
        async with httpx.AsyncClient(base_url=first.url) as http:
            flow = Flow(svc=probe, http=http, messages=messages, ids=ids)
            verified = await verification(flow, verify_body(ids, snow.base_url))
            assert verified["status"] == "success"
            snow.state.churn_per_page = 10
            gate.close(after=5)  # five pages pass; the sixth waits at the instance
            run_id = uuid.uuid4()
            await flow.post(snow_sync(ids, run_id))
            assert await gate.wait_held()
        # No shutdown code runs: only the checkpoint survives.
        await asyncio.to_thread(stack.kill, "itsm-sync", signal.SIGKILL)
        gate.open()
        run = await probe.deps.store.get_run(run_id)
        assert run is not None
        assert run.status == "running"
        assert 0 < run.records_processed < INCIDENTS
        assert run.cursor is not None
        # The same command again: it resumes every active run at start-up.
        await asyncio.to_thread(stack.restart, "itsm-sync")
        got = of_run(run_id)(await messages(ended(run_id), 120.0))
        assert got[-1]["status"] == "completed", got[-1]
        assert got[-1]["records_processed"] == INCIDENTS
        stored = await stored_tickets(probe, ids["connection_id"])
        found = [sys_id for sys_id, _, _ in stored]
        assert len(found) == len(set(found)) == INCIDENTS
        assert set(found) == {incident["sys_id"] for incident in incidents(snow)}
    finally:
        await asyncio.to_thread(stack.close)
        await probe.deps.http.aclose()
        await probe.engine.dispose()
