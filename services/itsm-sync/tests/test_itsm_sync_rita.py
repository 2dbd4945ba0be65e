"""Rita's API driving itsm-sync (issue 14 point 2), over the real servers.

itsm-sync runs as its own process (its real start-up, its real log lines on stdout) with
`SYNC_WEBHOOK_REQUIRE_SIGNATURE=false`; fake-jira serves in this test's event loop; RabbitMQ and
PostgreSQL are the real ones. The bodies are Rita's exact payloads: `settings: {url, email}`,
`credentials: {apiToken}`, unsigned, authenticated by `Authorization` alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from connections_api import dialect as api_dialect
from contracts import JiraItsmCredentials, VerifyCredentialsWebhook, parse_webhook
from fake_jira.testing import RunningFakeJira, running_fake_jira_server
from itsm_sync.config import Settings
from itsm_sync.db.models import SeenWebhook
from itsm_sync.migrate import migrate
from itsm_sync.rita import Intake, translate
from itsm_sync.service import Service
from rita_testing import free_port
from rita_testing.itsm_sync import process_env
from rita_testing.stack import BIN, Proc, Stack
from rita_testing.webhooks import signed_headers

EMAIL = "agent@example.com"
TOKEN = "ATATT-rita-dialect-token-3c9d1e"
WRONG_TOKEN = "ATATT-rita-wrong-token-never-logged-77ab"
STANDARD_WRONG_TOKEN = "ATATT-standard-wrong-token-never-logged-5e0f"
RITA_AUTH = "Bearer rita-api-shared-value-9f2c"
ISSUES = 300


@pytest.fixture
async def jira() -> AsyncIterator[RunningFakeJira]:
    """fake-jira with 300 issues over the last year and one account."""
    async with running_fake_jira_server(
        issues=ISSUES, days=365, accounts=f"{EMAIL}:{TOKEN}"
    ) as running:
        yield running


@dataclass
class Rita:
    """A running itsm-sync in Rita's mode, its log file, fake-jira, the queue and fresh ids."""

    http: httpx.AsyncClient
    probe: Service  # not started: reads the process's database, signs standard requests
    process: Proc
    jira: RunningFakeJira
    messages: Any
    ids: dict[str, str]

    def envelope(self, action: str, **fields: Any) -> dict[str, Any]:
        """Fields every webhook of Rita's API carries."""
        return {
            "source": "rita-chat",
            "action": action,
            "tenant_id": self.ids["tenant_id"],
            "user_id": self.ids["user_id"],
            "user_email": "admin@acme.example",
            "connection_id": self.ids["connection_id"],
            "connection_type": "jira_itsm",
            "timestamp": "2026-11-30T20:00:00.000Z",
            **fields,
        }

    async def post(self, body: dict[str, Any], auth: str | None = RITA_AUTH) -> httpx.Response:
        """POST as Rita's API does: JSON, `Authorization`, no signature."""
        headers = {"content-type": "application/json"}
        if auth is not None:
            headers["authorization"] = auth
        return await self.http.post("/webhook", content=json.dumps(body), headers=headers)

    def logs(self) -> str:
        """Everything the process printed so far."""
        return self.process.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
async def rita(
    make_settings: Callable[..., Settings],
    database_factory: Callable[[str], str],
    jira: RunningFakeJira,
    messages: Any,
    ids: dict[str, str],
) -> AsyncIterator[Rita]:
    """itsm-sync as a process beside Rita's API: authorization-only, signatures still checked."""
    # Its own database: the process resumes every active run it finds at start-up.
    url = await asyncio.to_thread(database_factory, "itsm_rita")
    await asyncio.to_thread(migrate, url)
    settings = make_settings(
        itsm_sync_database_url=url, allowed_private_hosts=jira.base_url.removeprefix("http://")
    )
    probe = Service(settings)
    stack = Stack(
        env={
            **process_env(settings),
            "LOG_LEVEL": "DEBUG",  # debug logs: a secret in any line is seen
            "LOG_FORMAT": "json",
            "SYNC_WEBHOOK_REQUIRE_SIGNATURE": "false",
            "SYNC_WEBHOOK_AUTH": RITA_AUTH,
        }
    )
    try:
        process = await asyncio.to_thread(stack.start, "itsm-sync")
        async with httpx.AsyncClient(base_url=process.url) as http:
            yield Rita(http, probe, process, jira, messages, ids)
    finally:
        await asyncio.to_thread(stack.close)
        await probe.deps.http.aclose()
        await probe.engine.dispose()


def of(ids: dict[str, str], kind: str) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    return lambda got: [
        m for m in got if m.get("connection_id") == ids["connection_id"] and m["type"] == kind
    ]


async def seen_webhooks(svc: Service) -> int:
    async with svc.deps.store.sessions() as session:
        result = await session.execute(select(func.count()).select_from(SeenWebhook))
        return int(result.scalar_one())


def assert_numbers(message: dict[str, Any]) -> None:
    """Counters are JSON numbers (Rita's consumer does arithmetic on them), never strings."""
    for field in ("records_processed", "records_failed", "total_estimated"):
        assert type(message[field]) is int, (field, message)


async def test_rita_verify_and_import_against_fake_jira(rita: Rita) -> None:
    verify = rita.envelope(
        "verify_credentials",
        settings={"url": rita.jira.base_url, "email": EMAIL},
        credentials={"apiToken": TOKEN},
    )
    answer = await rita.post(verify)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"success": True, "message": "Credential verification started"}
    verifications = of(rita.ids, "verification")
    verified = verifications(await rita.messages(lambda got: bool(verifications(got)), 30.0))[-1]
    assert verified["type"] == "verification"
    assert verified["status"] == "success", verified
    projects = verified["options"]["projects"]
    assert {p["key"] for p in projects} == {key for key, *_ in rita.jira.state.dataset.projects}
    key = (uuid.UUID(rita.ids["tenant_id"]), uuid.UUID(rita.ids["connection_id"]), "jira_itsm")
    stored = await rita.probe.deps.store.load_credentials(key)
    assert stored is not None
    assert stored.base_url == rita.jira.base_url
    assert (stored.settings["base_url"], stored.settings["email"]) == (rita.jira.base_url, EMAIL)

    dataset = rita.jira.state.dataset
    chosen = dataset.projects[1][0]
    expected = sum(1 for issue in dataset.issues if issue.project == 1)
    assert 0 < expected < ISSUES
    run_id = str(uuid.uuid4())
    sync = rita.envelope(
        "sync_tickets",
        ingestion_run_id=run_id,
        settings={
            "url": rita.jira.base_url,
            "email": EMAIL,
            "project_keys": [chosen],
            "time_range_days": 365,
        },
    )
    answer = await rita.post(sync)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "success": True,
        "message": "Ticket sync started",
        "ingestion_run_id": run_id,
    }

    def ended(got: list[dict[str, Any]]) -> bool:
        return any(
            m["status"] in ("completed", "failed")
            for m in got
            if m.get("ingestion_run_id") == run_id
        )

    runs = [m for m in await rita.messages(ended, 60.0) if m.get("ingestion_run_id") == run_id]
    assert all(m["type"] == "ticket_ingestion" for m in runs)
    final = runs[-1]
    assert final["status"] == "completed", final
    assert final["records_processed"] == final["total_estimated"] == expected
    for message in runs:
        assert_numbers(message)
    tenant, connection = uuid.UUID(rita.ids["tenant_id"]), uuid.UUID(rita.ids["connection_id"])
    assert await rita.probe.deps.store.count_tickets(tenant, connection) == expected

    # The same request again (Rita retries identical bodies): answered, not run twice.
    again = await rita.post(sync)
    assert again.status_code == 200
    assert again.json()["message"].endswith("(already received: not run again)")
    # A cancel in Rita's shape: the run id is echoed only for syncs.
    cancel = rita.envelope("cancel_ingestion", ingestion_run_id=run_id, settings={})
    answer = await rita.post(cancel)
    assert answer.status_code == 200
    assert answer.json() == {"success": True, "message": "Ticket sync cancellation requested"}


async def test_authorization_alone_is_checked(rita: Rita) -> None:
    verify = rita.envelope(
        "verify_credentials",
        settings={"url": rita.jira.base_url, "email": EMAIL},
        credentials={"apiToken": TOKEN},
    )
    before = await seen_webhooks(rita.probe)
    for auth in (None, "Bearer wrong", RITA_AUTH + "x", ""):
        refused = await rita.post(verify, auth=auth)
        assert refused.status_code == 401, (auth, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "invalid_webhook"
        assert RITA_AUTH not in refused.text
    assert await seen_webhooks(rita.probe) == before
    # A signature that is present is still checked (a secret is set): a forged one is refused.
    body = json.dumps(verify).encode()
    forged = signed_headers(
        body, "whsec_" + "Zm9yZ2VkLWZvcmdlZC1mb3JnZWQtZm9yZ2VkLTEyMzQ=", authorization=RITA_AUTH
    )
    assert (await rita.http.post("/webhook", content=body, headers=forged)).status_code == 401
    assert await seen_webhooks(rita.probe) == before
    # Nothing was published for the refused requests; the right header is then accepted.
    assert (await rita.post(verify)).status_code == 200
    got = await rita.messages(lambda m: bool(of(rita.ids, "verification")(m)), 30.0)
    assert len(of(rita.ids, "verification")(got)) == 1
    # Every refusal is logged, and no Authorization value (right or wrong) with it.
    logs = rita.logs()
    assert logs.count('"webhook_rejected"') == 5, logs
    for value in (RITA_AUTH.rsplit(maxsplit=1)[-1], "Bearer wrong"):
        assert value not in logs


async def test_no_secret_in_any_log_line_or_answer_in_either_dialect(rita: Rita) -> None:
    ids = rita.ids
    # Rita's dialect, a wrong token: a failure that names no token.
    rita_failed = rita.envelope(
        "verify_credentials",
        settings={"url": rita.jira.base_url, "email": EMAIL},
        credentials={"apiToken": WRONG_TOKEN},
    )
    assert (await rita.post(rita_failed)).status_code == 200
    # Rita's dialect, a body that does not fit: the 422 quotes no value.
    broken = {**rita_failed, "tenant_id": "not-a-uuid"}
    invalid = await rita.post(broken)
    assert invalid.status_code == 422
    assert invalid.json()["code"] == "invalid_webhook_body"
    assert "tenant_id" in invalid.json()["detail"]
    # The standard dialect on the same process (signed), a wrong token as well.
    standard_ids = {**ids, "connection_id": str(uuid.uuid4())}
    standard = {
        **rita.envelope("verify_credentials"),
        **standard_ids,
        "settings": {"base_url": rita.jira.base_url, "email": EMAIL},
        "credentials": {"email": EMAIL, "api_token": STANDARD_WRONG_TOKEN},
    }
    body = json.dumps(standard).encode()
    settings = rita.probe.settings
    headers = signed_headers(
        body, settings.sync_webhook_secret.get_secret_value(), authorization=RITA_AUTH
    )
    answer = await rita.http.post("/webhook", content=body, headers=headers)
    assert answer.status_code == 202
    assert answer.json()["status"] == "accepted"  # standard callers keep today's answer

    both = {ids["connection_id"], standard_ids["connection_id"]}
    got = await rita.messages(
        lambda m: {x.get("connection_id") for x in m if x["type"] == "verification"} >= both,
        30.0,
    )
    failures = [m for m in got if m["type"] == "verification"]
    assert len(failures) == 2
    for message in failures:
        assert message["status"] == "failed"
        assert message["error_detail"] == {"error_code": "auth_failed"}
        # Rita's consumer reads `error_message`; this project's reads `error`: both are sent.
        assert message["error_message"] == message["error"]
        assert "401" in message["error_message"]
    # The process has logged both verifications (the capture works) and no secret.
    logs = rita.logs()
    assert logs.count('"verification_failed"') == 2, logs
    answers = json.dumps(got) + invalid.text + answer.text
    for secret in (WRONG_TOKEN, STANDARD_WRONG_TOKEN, TOKEN, RITA_AUTH):
        assert secret not in logs
        assert secret not in answers
    assert RITA_AUTH.rsplit(maxsplit=1)[-1] not in logs


def test_authorization_only_without_auth_is_refused_at_start_up(
    make_settings: Callable[..., Settings],
) -> None:
    env = process_env(make_settings())
    del env["SYNC_WEBHOOK_AUTH"]
    env |= {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PORT": str(free_port())}
    env["SYNC_WEBHOOK_REQUIRE_SIGNATURE"] = "false"
    result = subprocess.run(
        [str(BIN / "itsm-sync")], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "itsm-sync: configuration error: SYNC_WEBHOOK_REQUIRE_SIGNATURE=false needs "
        "SYNC_WEBHOOK_AUTH (the Authorization value the caller sends); without it anyone could "
        "call"
    ]


def test_signatures_stay_required_by_default(make_settings: Callable[..., Settings]) -> None:
    assert make_settings().sync_webhook_require_signature is True
    with pytest.raises(ValueError, match="SYNC_WEBHOOK_SECRET is required"):
        make_settings(sync_webhook_secret="")
    # Beside Rita, no signing secret is needed: Authorization is.
    beside = make_settings(
        sync_webhook_secret="", sync_webhook_require_signature=False, sync_webhook_auth="x"
    )
    assert beside.sync_webhook_require_signature is False


def test_translation_renames_ritas_keys_and_leaves_standard_bodies_alone() -> None:
    rita_body: dict[str, Any] = {
        "action": "verify_credentials",
        "connection_type": "jira_itsm",
        "settings": {"url": "https://acme.atlassian.net", "email": EMAIL},
        "credentials": {"apiToken": TOKEN},
    }
    intake = translate(rita_body, signed=True)
    assert intake.rita is True
    assert intake.body["settings"] == {"base_url": "https://acme.atlassian.net", "email": EMAIL}
    assert intake.body["credentials"] == {"api_token": TOKEN, "email": EMAIL}
    assert rita_body["credentials"] == {"apiToken": TOKEN}  # the input is not changed
    standard: dict[str, Any] = {
        "action": "verify_credentials",
        "connection_type": "jira_itsm",
        "settings": {"base_url": "https://acme.atlassian.net", "email": EMAIL},
        "credentials": {"email": EMAIL, "api_token": TOKEN},
    }
    assert translate(standard, signed=True) == Intake(standard, rita=False)
    # Unsigned means Rita's API (only connections-api signs), whatever the keys.
    assert translate(standard, signed=False).rita is True
    # Both names sent: this project's wins.
    both = {**standard, "settings": {**standard["settings"], "url": "https://other.example"}}
    assert translate(both, signed=True).body["settings"]["base_url"] == (
        "https://acme.atlassian.net"
    )


@pytest.mark.parametrize("action", ["verify_credentials", "sync_tickets", "cancel_ingestion"])
def test_connections_api_in_the_rita_dialect_is_read_as_it_meant(action: str) -> None:
    # Both halves agree: what connections-api sends with SYNC_WEBHOOK_DIALECT=rita is read by
    # itsm-sync as the standard webhook it started from.
    ids = {"tenant_id": str(uuid.uuid4()), "connection_id": str(uuid.uuid4()), "user_id": "u1"}
    common = {
        **ids,
        "source": "rita-chat",
        "connection_type": "jira_itsm",
        "action": action,
        "timestamp": "2026-11-30T20:00:00Z",
    }
    run = {"ingestion_run_id": str(uuid.uuid4())}
    standard: dict[str, Any] = {
        "verify_credentials": {
            **common,
            "settings": {"base_url": "https://acme.atlassian.net", "email": EMAIL},
            "credentials": {"email": EMAIL, "api_token": TOKEN},
            "verification_id": str(uuid.uuid4()),
        },
        "sync_tickets": {
            **common,
            **run,
            "settings": {
                "base_url": "https://acme.atlassian.net",
                "email": EMAIL,
                "project_keys": ["OPS"],
                "time_range_days": 30,
            },
        },
        "cancel_ingestion": {**common, **run, "settings": {}},
    }[action]
    sent = api_dialect.translate(standard, api_dialect.Dialect.RITA)
    intake = translate(json.loads(json.dumps(sent)), signed=True)
    read = parse_webhook(intake.body)
    assert read == parse_webhook(standard)
    if action != "cancel_ingestion":
        assert intake.rita is True  # answered as Rita's sync service answers
    if isinstance(read, VerifyCredentialsWebhook):
        assert isinstance(read.credentials, JiraItsmCredentials)
        assert read.credentials.api_token.get_secret_value() == TOKEN
