"""`POST /webhook` against the real database and RabbitMQ (no Jira needed)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from contracts import (
    CancelIngestionWebhook,
    SyncTicketsWebhook,
    VerifyCredentialsWebhook,
    parse_status_message,
)
from itsm_sync.app import create_app
from itsm_sync.config import Settings
from itsm_sync.db.models import SeenWebhook, SyncRun
from itsm_sync.runstate import RunStatus
from itsm_sync.service import Service
from rita_testing.itsm_sync import jira_run, sync_body


def unsupported_verify(ids: dict[str, str]) -> bytes:
    # A type no connector handles: answered at once, and no traffic leaves the machine.
    hook = VerifyCredentialsWebhook.model_validate(
        {
            **ids,
            "connection_type": "confluence",
            "credentials": {"username": "u", "password": "pw-secret"},
            "settings": {"instance_url": "https://x.service-now.com", "username": "u"},
        }
    )
    return hook.to_wire()


async def seen_count(service: Service, webhook_id: str) -> int:
    async with service.deps.store.sessions() as session:
        result = await session.execute(
            select(func.count())
            .select_from(SeenWebhook)
            .where(SeenWebhook.webhook_id == webhook_id)
        )
        return int(result.scalar_one())


async def test_unsupported_type_verification_fails_clearly(
    client: httpx.AsyncClient,
    sign: Callable[..., dict[str, str]],
    messages: Any,
    ids: dict[str, str],
) -> None:
    body = unsupported_verify(ids)
    response = await client.post("/webhook", content=body, headers=sign(body))
    assert response.status_code == 202
    received = await messages(lambda got: len(got) >= 1, 10.0)
    message = parse_status_message(json.dumps(received[0]))
    assert message.type == "verification"
    assert message.status == "failed"
    assert message.error == "confluence is not supported by this sync service"
    assert message.message_id
    assert message.timestamp
    assert received[0]["_delivery_mode"] == 2  # persistent
    assert received[0]["_amqp_message_id"] == message.message_id
    assert "pw-secret" not in json.dumps(received)


async def test_bad_signature_is_401_and_nothing_is_done(
    client: httpx.AsyncClient,
    service: Service,
    sign: Callable[..., dict[str, str]],
    messages: Any,
    ids: dict[str, str],
) -> None:
    body = unsupported_verify(ids)
    forged = sign(body, secret="whsec_" + "Zm9yZ2VkLWZvcmdlZC1mb3JnZWQtZm9yZ2VkLTEyMzQ=")
    response = await client.post("/webhook", content=body, headers=forged)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_webhook"
    wrong_auth = sign(body, auth="Bearer nope")
    assert (await client.post("/webhook", content=body, headers=wrong_auth)).status_code == 401
    assert await seen_count(service, forged["webhook-id"]) == 0
    assert await seen_count(service, wrong_auth["webhook-id"]) == 0
    # A genuine webhook afterwards is the only thing that produces a message.
    marker = {**ids, "connection_id": str(uuid.uuid4())}
    good = unsupported_verify(marker)
    assert (await client.post("/webhook", content=good, headers=sign(good))).status_code == 202
    received = await messages(lambda got: len(got) >= 1, 10.0)
    assert [m["connection_id"] for m in received] == [marker["connection_id"]]


async def test_redelivered_webhook_id_is_done_once(
    client: httpx.AsyncClient,
    sign: Callable[..., dict[str, str]],
    messages: Any,
    ids: dict[str, str],
) -> None:
    body = unsupported_verify(ids)
    headers = sign(body)
    first = await client.post("/webhook", content=body, headers=headers)
    second = await client.post("/webhook", content=body, headers=headers)
    assert first.json()["status"] == "accepted"
    assert second.status_code == 202
    assert second.json()["status"] == "duplicate"
    marker = {**ids, "connection_id": str(uuid.uuid4())}
    later = unsupported_verify(marker)
    await client.post("/webhook", content=later, headers=sign(later))
    received = await messages(
        lambda got: any(m["connection_id"] == marker["connection_id"] for m in got), 10.0
    )
    assert sum(m["connection_id"] == ids["connection_id"] for m in received) == 1


async def test_invalid_body_with_good_signature_is_422(
    client: httpx.AsyncClient, sign: Callable[..., dict[str, str]]
) -> None:
    body = b'{"action": "verify_credentials"}'
    response = await client.post("/webhook", content=body, headers=sign(body))
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_webhook_body"


async def test_sync_without_stored_credentials_fails_with_verify_again(
    client: httpx.AsyncClient,
    service: Service,
    sign: Callable[..., dict[str, str]],
    messages: Any,
    ids: dict[str, str],
) -> None:
    run_id = uuid.uuid4()
    hook = SyncTicketsWebhook.model_validate(
        {
            **ids,
            "connection_type": "jira_itsm",
            "ingestion_run_id": run_id,
            "settings": {"time_range_days": 30, "base_url": "https://acme.atlassian.net"},
        }
    )
    body = hook.to_wire()
    assert (await client.post("/webhook", content=body, headers=sign(body))).status_code == 202
    received = await messages(lambda got: len(got) >= 1, 10.0)
    message = parse_status_message(json.dumps(received[0]))
    assert message.type == "ticket_ingestion"
    assert message.status == "failed"
    assert message.error_detail == {"error_code": "auth_failed"}
    assert message.error_message
    assert "verify it again" in message.error_message
    run = await service.deps.store.get_run(run_id)
    assert run is not None
    assert run.status == "failed"


async def test_cancel_before_sync_keeps_the_run_from_starting(
    client: httpx.AsyncClient,
    service: Service,
    sign: Callable[..., dict[str, str]],
    ids: dict[str, str],
) -> None:
    run_id = uuid.uuid4()
    common = {**ids, "connection_type": "jira_itsm", "ingestion_run_id": str(run_id)}
    cancel = json.dumps({**common, "action": "cancel_ingestion", "source": "rita-chat"}).encode()
    assert (await client.post("/webhook", content=cancel, headers=sign(cancel))).status_code == 202
    await service.runs.drain(5.0)  # wait for the background work to finish
    body = sync_body(ids, run_id, days=30)
    assert (await client.post("/webhook", content=body, headers=sign(body))).status_code == 202
    await service.runs.drain(5.0)
    async with service.deps.store.sessions() as session:
        run = await session.get(SyncRun, run_id)
    assert run is not None
    assert run.status == "cancelled"


async def sample(client: httpx.AsyncClient, name: str, **labels: str) -> float:
    """The value of one sample on `/metrics` (0 when it has not been counted yet)."""
    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return 0.0


async def test_health_readiness_and_metrics(
    client: httpx.AsyncClient,
    sign: Callable[..., dict[str, str]],
    messages: Any,
    ids: dict[str, str],
) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    # The counters move by exactly what each request did (a registered metric with no samples
    # would still print its name).
    webhooks = "itsm_sync_webhooks_total"
    accepted = {"action": "verify_credentials", "outcome": "accepted"}
    rejected = {"action": "unknown", "outcome": "rejected"}
    failed = {"type": "verification", "status": "failed"}
    before = (
        await sample(client, webhooks, **accepted),
        await sample(client, webhooks, **rejected),
        await sample(client, "itsm_sync_status_messages_total", **failed),
    )
    body = unsupported_verify(ids)
    forged = sign(body, auth="Bearer nope")
    assert (await client.post("/webhook", content=body, headers=forged)).status_code == 401
    assert (await client.post("/webhook", content=body, headers=sign(body))).status_code == 202
    await messages(lambda got: len(got) >= 1, 10.0)
    after = (
        await sample(client, webhooks, **accepted),
        await sample(client, webhooks, **rejected),
        await sample(client, "itsm_sync_status_messages_total", **failed),
    )
    assert after == (before[0] + 1, before[1] + 1, before[2] + 1)


async def test_cancel_interleaved_with_the_sync_claim_still_cancels(
    service: Service, ids: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cancel's update finds no row; the sync webhook's claim lands just after it (two
    # background tasks on the same run): the cancel must still win.
    run_id = uuid.uuid4()
    common = {**ids, "connection_type": "jira_itsm", "ingestion_run_id": str(run_id)}
    store = service.deps.store
    real_move = store.move_run

    async def move_then_sync_claims(target_id: uuid.UUID, target: RunStatus, **f: Any) -> bool:
        moved = await real_move(target_id, target, **f)
        if target is RunStatus.CANCELLED and not moved and await store.get_run(run_id) is None:
            await store.claim_run(
                jira_run(ids, run_id, status=RunStatus.PENDING.value, time_range_days=30)
            )
        return moved

    monkeypatch.setattr(store, "move_run", move_then_sync_claims)
    await service.runs.cancel(CancelIngestionWebhook.model_validate(common))
    run = await store.get_run(run_id)
    assert run is not None
    assert run.status == "cancelled"


async def test_a_body_over_the_limit_is_413_before_anything_is_done(
    make_settings: Callable[..., Settings], sign: Callable[..., dict[str, str]], ids: dict[str, str]
) -> None:
    service = Service(make_settings(max_body_bytes=2048))
    await service.start(resume=False)
    try:
        transport = httpx.ASGITransport(app=create_app(service.settings, service))
        async with httpx.AsyncClient(transport=transport, base_url="http://itsm-sync") as http:
            big = json.dumps({**ids, "padding": "x" * 4096}).encode()
            headers = sign(big)
            response = await http.post("/webhook", content=big, headers=headers)
            assert response.status_code == 413
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] == "payload_too_large"
            assert await seen_count(service, headers["webhook-id"]) == 0
            small = unsupported_verify(ids)
            assert (
                await http.post("/webhook", content=small, headers=sign(small))
            ).status_code == 202
    finally:
        await service.stop()


def test_the_default_body_limit_is_one_mebibyte(make_settings: Callable[..., Settings]) -> None:
    assert make_settings().max_body_bytes == 1024 * 1024
