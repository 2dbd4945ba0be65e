"""itsm-sync under test: the service on its ASGI app, signed webhooks, the status messages.

Used by services/itsm-sync/tests (the Jira and ServiceNow flows, the rules, Rita's mode), so each
of them drives the service, signs and reads the queue the same way; the emulator each flow needs
stays with its tests. A test that needs a process of its own (to SIGKILL it, to read its log)
starts `itsm-sync` with `rita_testing.stack.Stack` over `process_env(settings)`. It lives here,
not in the shipped package, so nothing under src/ imports test helpers.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from contracts import SyncTicketsWebhook, VerifyCredentialsWebhook
from itsm_sync.app import create_app
from itsm_sync.config import Settings
from itsm_sync.db.models import SyncRun
from itsm_sync.service import Service
from rita_testing.webhooks import signed_headers

Messages = list[dict[str, Any]]
# `await messages(done, within)`: every status message on the test's queue once `done(all)`.
Collector = Callable[[Callable[[Messages], bool], float], Awaitable[Messages]]
# How long a verification may take to be answered on the queue (a bound, not an expectation).
VERIFY_WITHIN = 30.0


def of_run(run_id: uuid.UUID) -> Callable[[Messages], Messages]:
    """The messages of one run, in the order received."""
    return lambda got: [m for m in got if m.get("ingestion_run_id") == str(run_id)]


def ended(*run_ids: uuid.UUID) -> Callable[[Messages], bool]:
    """Whether every one of these runs has published its end (completed or failed)."""
    return lambda got: all(
        any(m["status"] in ("completed", "failed") for m in of_run(run_id)(got))
        for run_id in run_ids
    )


def jira_verify_body(ids: dict[str, str], base_url: str, email: str, token: str) -> bytes:
    """A `verify_credentials` webhook body for a Jira site and account, as the test's tenant and
    connection (`ids`)."""
    return VerifyCredentialsWebhook.model_validate(
        {
            **ids,
            "connection_type": "jira_itsm",
            "credentials": {"email": email, "api_token": token},
            "settings": {"base_url": base_url, "email": email},
        }
    ).to_wire()


def sync_body(
    ids: dict[str, str],
    run_id: uuid.UUID,
    *,
    connection_type: str = "jira_itsm",
    days: int = 365,
    **settings: Any,
) -> bytes:
    """A `sync_tickets` webhook body for the test's tenant and connection (`ids`): the time
    range, plus `settings` such as an import scope (`project_keys=[...]`)."""
    return SyncTicketsWebhook.model_validate(
        {
            **ids,
            "connection_type": connection_type,
            "ingestion_run_id": run_id,
            "settings": {"time_range_days": days, **settings},
        }
    ).to_wire()


def jira_run(ids: dict[str, str], run_id: uuid.UUID, **fields: Any) -> SyncRun:
    """A Jira run row of the test's tenant and connection (`ids`), no page read yet, for a test
    that puts a run where a previous webhook or process would have left it; `fields` override."""
    given: dict[str, Any] = {
        "ingestion_run_id": run_id,
        "tenant_id": uuid.UUID(ids["tenant_id"]),
        "connection_id": uuid.UUID(ids["connection_id"]),
        "connection_type": "jira_itsm",
        "pages_done": 0,
        "records_processed": 0,
        "records_failed": 0,
    }
    return SyncRun(**(given | fields))


@dataclass
class ItsmSync:
    """An itsm-sync driven over `http` (its ASGI app or its port), with the test's queue.

    `svc` signs with its settings' secrets and reads its database; it need not be the process
    `http` reaches (a test that SIGKILLs a separate process keeps an unstarted one here).
    """

    svc: Service
    http: httpx.AsyncClient
    messages: Collector

    def sign(self, body: bytes) -> dict[str, str]:
        """The headers Rita's API would send with `body`, with the service's secrets."""
        settings = self.svc.settings
        return signed_headers(
            body,
            settings.sync_webhook_secret.get_secret_value(),
            authorization=settings.sync_webhook_auth.get_secret_value(),
        )

    async def send(self, body: bytes) -> httpx.Response:
        """POST `body`, signed, to `/webhook`; the answer, whatever it is."""
        return await self.http.post("/webhook", content=body, headers=self.sign(body))

    async def post(self, body: bytes) -> None:
        """`send`, which must be accepted (202)."""
        response = await self.send(body)
        if response.status_code != 202:
            raise AssertionError(f"{response.status_code}: {response.text}")

    async def verification(self, body: bytes, connection_id: str) -> dict[str, Any]:
        """`post` a verify webhook; its answer on the queue (the connection's first)."""
        await self.post(body)

        def mine(got: Messages) -> Messages:
            return [
                m
                for m in got
                if m["type"] == "verification" and m["connection_id"] == connection_id
            ]

        return mine(await self.messages(lambda got: bool(mine(got)), VERIFY_WITHIN))[0]


@dataclass
class Flow(ItsmSync):
    """One flow test's pieces: the service, the queue and fresh tenant, connection, user ids."""

    ids: dict[str, str]


@contextlib.asynccontextmanager
async def asgi_client(svc: Service) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the service's ASGI app (no port, no server)."""
    transport = httpx.ASGITransport(app=create_app(svc.settings, svc))
    async with httpx.AsyncClient(transport=transport, base_url="http://itsm-sync") as http:
        yield http


@contextlib.asynccontextmanager
async def serving(
    settings: Settings, *, resume: bool = False
) -> AsyncIterator[tuple[Service, httpx.AsyncClient]]:
    """A started service and a client on its app; stopped on the way out.

    No resume by default: the tests share one database, and another test's active runs are not
    this service's to take over."""
    svc = Service(settings)
    await svc.start(resume=resume)
    try:
        async with asgi_client(svc) as http:
            yield svc, http
    finally:
        await svc.stop()


def process_env(settings: Settings) -> dict[str, str]:
    """The environment that gives an `itsm-sync` process these settings (a `Stack`'s `env`)."""
    return {
        "ITSM_SYNC_DATABASE_URL": settings.itsm_sync_database_url,
        "RABBITMQ_URL": settings.rabbitmq_url,
        "STATUS_QUEUE": settings.status_queue,
        "SYNC_WEBHOOK_SECRET": settings.sync_webhook_secret.get_secret_value(),
        "SYNC_WEBHOOK_AUTH": settings.sync_webhook_auth.get_secret_value(),
        "ITSM_SYNC_ENCRYPTION_KEY": settings.itsm_sync_encryption_key.get_secret_value(),
        "ALLOWED_PRIVATE_HOSTS": settings.allowed_private_hosts,
    }
