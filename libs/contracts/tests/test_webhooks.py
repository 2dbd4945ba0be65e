"""Webhook bodies match DESIGN.md §6 field for field."""

import json
import uuid
from datetime import UTC, datetime

import pytest

from contracts import (
    CancelIngestionWebhook,
    DataSourceType,
    InvalidWebhook,
    JiraItsmCredentials,
    SyncTicketsSettings,
    SyncTicketsWebhook,
    VerifyCredentialsWebhook,
    parse_webhook,
)

TOKEN = "fake-token-for-tests-0123456789"
TENANT, CONNECTION, RUN, VERIFICATION = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _verify() -> VerifyCredentialsWebhook:
    return VerifyCredentialsWebhook(
        tenant_id=TENANT,
        user_id="user-1",
        user_email="admin@company.com",
        connection_id=CONNECTION,
        connection_type=DataSourceType.JIRA_ITSM,
        credentials=JiraItsmCredentials(email="user@company.com", api_token=TOKEN),  # type: ignore[arg-type]
        settings={"base_url": "https://company.atlassian.net", "email": "user@company.com"},
        timestamp=NOW,
        verification_id=VERIFICATION,
    )


def test_verify_wire_body_has_exactly_the_contract_fields_and_the_token() -> None:
    body = json.loads(_verify().to_wire())
    assert body == {
        "source": "rita-chat",
        "action": "verify_credentials",
        "tenant_id": str(TENANT),
        "user_id": "user-1",
        "user_email": "admin@company.com",
        "connection_id": str(CONNECTION),
        "connection_type": "jira_itsm",
        "credentials": {"email": "user@company.com", "api_token": TOKEN},
        "settings": {"base_url": "https://company.atlassian.net", "email": "user@company.com"},
        "timestamp": "2026-11-28T12:00:00Z",
        "verification_id": str(VERIFICATION),
    }


def test_verify_webhook_masks_the_token_everywhere_but_the_wire() -> None:
    webhook = _verify()
    assert TOKEN not in repr(webhook)
    assert TOKEN not in webhook.model_dump_json()


def test_sync_tickets_body_carries_time_range_and_no_credentials() -> None:
    webhook = SyncTicketsWebhook(
        tenant_id=TENANT,
        user_id="user-1",
        connection_id=CONNECTION,
        connection_type=DataSourceType.JIRA_ITSM,
        settings=SyncTicketsSettings.model_validate(
            {"base_url": "https://company.atlassian.net", "time_range_days": 30}
        ),
        ingestion_run_id=RUN,
        timestamp=NOW,
    )
    body = json.loads(webhook.to_wire())
    assert body["action"] == "sync_tickets"
    assert body["settings"] == {"base_url": "https://company.atlassian.net", "time_range_days": 30}
    assert body["ingestion_run_id"] == str(RUN)
    assert "credentials" not in body


def test_parse_webhook_round_trips_each_action() -> None:
    cancel = CancelIngestionWebhook(
        tenant_id=TENANT,
        user_id="u",
        connection_id=CONNECTION,
        connection_type=DataSourceType.JIRA_ITSM,
        ingestion_run_id=RUN,
    )
    parsed = parse_webhook(cancel.to_wire())
    assert parsed == cancel
    verify = parse_webhook(_verify().to_wire())
    assert isinstance(verify, VerifyCredentialsWebhook)
    assert isinstance(verify.credentials, JiraItsmCredentials)
    assert verify.credentials.api_token.get_secret_value() == TOKEN


def test_parse_webhook_rejects_unknown_action_without_echoing_input() -> None:
    body = json.loads(_verify().to_wire())
    body["action"] = "drop_tables"
    with pytest.raises(InvalidWebhook) as info:
        parse_webhook(body)
    assert TOKEN not in str(info.value)
