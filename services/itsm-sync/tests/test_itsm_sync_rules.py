"""Rules of itsm-sync that had no test (issue 15), against fake-jira, RabbitMQ and PostgreSQL.

The per-tenant run cap, 503 while shutting down, redirects not followed, the progress heartbeat
and an expired page token at resume. (A SIGKILL mid-import resuming from its checkpoint is in
`test_itsm_sync_servicenow_flows.py`: the checkpoint machinery is shared by every connector.)
Each test holds the import on fake-jira's gate where it must act mid-flight: no sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from contracts import SyncTicketsSettings
from emulator.server import serve_in_process
from fake_jira.testing import RunningFakeJira, running_fake_jira_server
from itsm_sync.config import Settings
from itsm_sync.connectors.jira import JiraConnector
from itsm_sync.db.models import SeenWebhook
from itsm_sync.runstate import RunStatus
from rita_testing import eventually
from rita_testing.itsm_sync import (
    Collector,
    ItsmSync,
    ended,
    jira_run,
    jira_verify_body,
    of_run,
    serving,
    sync_body,
)

EMAIL = "agent@example.com"
TOKEN = "ATATT-itsm-sync-rules-token-41d0"
ISSUES = 400


@dataclass
class Sync(ItsmSync):
    """A started itsm-sync (in process) beside fake-jira, with the test's queue."""

    jira: RunningFakeJira

    async def verify(self, ids: dict[str, str], base_url: str | None = None) -> dict[str, Any]:
        body = jira_verify_body(ids, base_url or self.jira.base_url, EMAIL, TOKEN)
        return await self.verification(body, ids["connection_id"])

    async def sync(self, ids: dict[str, str], run_id: uuid.UUID) -> None:
        await self.post(sync_body(ids, run_id))


@contextlib.asynccontextmanager
async def started(
    make_settings: Callable[..., Settings],
    messages: Collector,
    extra_hosts: str = "",
    **overrides: Any,
) -> AsyncIterator[Sync]:
    """fake-jira and an itsm-sync allowed to call it, with these settings."""
    async with running_fake_jira_server(
        issues=ISSUES, days=365, accounts=f"{EMAIL}:{TOKEN}"
    ) as jira:
        hosts = ",".join(filter(None, [jira.base_url.removeprefix("http://"), extra_hosts]))
        async with serving(make_settings(allowed_private_hosts=hosts, **overrides)) as (svc, http):
            try:
                yield Sync(svc=svc, http=http, messages=messages, jira=jira)
            finally:
                jira.state.core.gate.open()


def other_tenant() -> dict[str, str]:
    return {
        "tenant_id": str(uuid.uuid4()),
        "connection_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
    }


async def test_runs_of_one_tenant_wait_for_the_cap_others_do_not(
    make_settings: Callable[..., Settings], messages: Any, ids: dict[str, str]
) -> None:
    async with started(
        make_settings, messages, itsm_sync_max_runs_per_tenant=1, itsm_sync_page_size=50
    ) as s:
        other = other_tenant()
        assert (await s.verify(ids))["status"] == "success"
        assert (await s.verify(other))["status"] == "success"
        gate = s.jira.state.core.gate
        gate.close()
        first, second, elsewhere = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await s.sync(ids, first)
        assert await gate.wait_held(1)  # the tenant's one slot is taken, parked on a page
        await s.sync(ids, second)
        await s.sync(other, elsewhere)
        # Another tenant is not held back by this tenant's cap: its run reaches Jira too.
        assert await gate.wait_held(2)
        gate.open()
        got = await s.messages(ended(first, second, elsewhere), 120.0)
        for run_id in (first, second, elsewhere):
            final = of_run(run_id)(got)[-1]
            assert final["status"] == "completed", final
            assert final["records_processed"] == ISSUES
        # The tenant's second run began only once its first had ended: its first message comes
        # after the first run's `completed` (one publisher, publishes confirmed in order).
        order = [(m["ingestion_run_id"], m["status"]) for m in got if "ingestion_run_id" in m]
        first_done = order.index((str(first), "completed"))
        second_began = next(i for i, (run, _) in enumerate(order) if run == str(second))
        assert second_began > first_done
        # ...while the other tenant's run went on beside the first one.
        elsewhere_began = next(i for i, (run, _) in enumerate(order) if run == str(elsewhere))
        assert elsewhere_began < first_done


async def test_webhooks_are_refused_with_503_while_shutting_down(
    make_settings: Callable[..., Settings], messages: Any, ids: dict[str, str]
) -> None:
    async with started(make_settings, messages) as s:
        assert (await s.verify(ids))["status"] == "success"
        gate = s.jira.state.core.gate
        gate.close()
        run_id = uuid.uuid4()
        await s.sync(ids, run_id)
        assert await gate.wait_held(1)
        stopping = asyncio.create_task(s.svc.stop())
        await eventually(lambda: s.svc.stopping, 10.0, what="shutdown begun")
        late = other_tenant()
        body = jira_verify_body(late, s.jira.base_url, EMAIL, TOKEN)
        headers = s.sign(body)
        refused = await s.http.post("/webhook", content=body, headers=headers)
        assert refused.status_code == 503
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "shutting_down"
        gate.open()
        await stopping
        # Refused means not recorded: a redelivery after the restart is run, not a duplicate.
        async with s.svc.deps.store.sessions() as session:
            seen = await session.execute(
                select(func.count())
                .select_from(SeenWebhook)
                .where(SeenWebhook.webhook_id == headers["webhook-id"])
            )
            assert seen.scalar_one() == 0
        # The import was stopped at its checkpoint, still active, for the next process.
        run = await s.svc.deps.store.get_run(run_id)
        assert run is not None
        assert run.status == "running"


async def test_redirects_are_not_followed_so_the_token_stays_home(
    make_settings: Callable[..., Settings], messages: Any, ids: dict[str, str]
) -> None:
    elsewhere: list[str | None] = []

    async def record(request: Request) -> Response:
        elsewhere.append(request.headers.get("authorization"))
        return JSONResponse({"accountId": "x", "emailAddress": EMAIL})

    target_app = Starlette(routes=[Route("/{path:path}", record, methods=["GET", "POST"])])
    async with serve_in_process(target_app) as target:

        async def redirect(request: Request) -> Response:
            return RedirectResponse(target + request.url.path, status_code=302)

        redirector_app = Starlette(
            routes=[Route("/{path:path}", redirect, methods=["GET", "POST"])]
        )
        async with serve_in_process(redirector_app) as redirector:
            hosts = ",".join(url.removeprefix("http://") for url in (redirector, target))
            async with started(make_settings, messages, extra_hosts=hosts) as s:
                message = await s.verify(ids, base_url=redirector)
    assert message["status"] == "failed"
    assert message["error_detail"] == {"error_code": "not_found"}
    assert "302" in message["error"]
    assert elsewhere == []  # the credentials never reached the site the redirect named


async def test_a_heartbeat_repeats_the_counters_while_a_page_is_slow(
    make_settings: Callable[..., Settings], messages: Any, ids: dict[str, str]
) -> None:
    async with started(make_settings, messages, itsm_sync_progress_interval=0.05) as s:
        assert (await s.verify(ids))["status"] == "success"
        gate = s.jira.state.core.gate
        gate.close(after=1)  # the first page passes, the second is held
        run_id = uuid.uuid4()
        await s.sync(ids, run_id)
        assert await gate.wait_held(1)
        mine = of_run(run_id)
        got = mine(await s.messages(lambda m: any(x["records_processed"] > 0 for x in mine(m)), 30))
        seen = len(got)
        # No page can arrive while the gate holds it: whatever comes now is the heartbeat.
        beats = mine(await s.messages(lambda m: len(mine(m)) >= seen + 3, 30.0))[seen:]
        assert gate.waiting == 1
        assert [(m["status"], m["records_processed"]) for m in beats] == [("running", 100)] * len(
            beats
        )
        gate.open()
        final = mine(await s.messages(ended(run_id), 60.0))[-1]
        assert final["status"] == "completed"
        assert final["records_processed"] == ISSUES


async def test_an_expired_page_token_at_resume_reads_the_run_again_from_the_start(
    make_settings: Callable[..., Settings], messages: Any, ids: dict[str, str]
) -> None:
    async with started(make_settings, messages) as s:
        assert (await s.verify(ids))["status"] == "success"
        query = JiraConnector().import_query(
            SyncTicketsSettings(time_range_days=365), datetime.now(UTC)
        )
        # A run a previous process left mid-way, its checkpoint a token Jira no longer accepts.
        run_id = uuid.uuid4()
        run = await s.svc.deps.store.claim_run(
            jira_run(
                ids,
                run_id,
                status=RunStatus.RUNNING.value,
                time_range_days=365,
                query=query,
                cursor="eyJleHBpcmVkIjogdHJ1ZX0",
                pages_done=2,
            )
        )
        before = s.jira.stats()
        s.svc.runs.launch(run)  # what start-up's resume does for each active run
        got = of_run(run_id)(await s.messages(ended(run_id), 60.0))
        final = got[-1]
        assert final["status"] == "completed", final
        assert final["records_processed"] == final["total_estimated"] == ISSUES
        tenant, connection = uuid.UUID(ids["tenant_id"]), uuid.UUID(ids["connection_id"])
        assert await s.svc.deps.store.count_tickets(tenant, connection) == ISSUES
        # Jira did refuse the token (a 400), and the run went on from the first page.
        refused = s.jira.stats()["by_status"].get("400", 0) - before["by_status"].get("400", 0)
        assert refused == 1
        assert all(m["status"] in ("running", "completed") for m in got)
