"""Unit tests: encryption, webhook authentication, settings, run states, JQL, ticket rows."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contracts import TicketIngestionMessage, VerificationMessage
from itsm_sync.connectors.jira.jql import import_jql
from itsm_sync.connectors.jira.tickets import issue_ticket
from itsm_sync.crypto import CredentialCipher, DecryptionError, credential_aad
from itsm_sync.publisher import wire_body
from itsm_sync.runstate import RunStatus, can_move, sources_of
from itsm_sync.webhook_auth import WebhookAuthenticator, WebhookRejected
from rita_testing.webhooks import signed_headers

BODY = b'{"action":"verify_credentials"}'
WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMw=="
WEBHOOK_AUTH = "Bearer unit-test"
ENCRYPTION_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


def test_ciphertext_round_trips_for_its_own_row() -> None:
    cipher = CredentialCipher(bytes(32))
    aad = credential_aad("t", "c", "jira_itsm")
    blob = cipher.encrypt(b"secret-token", aad)
    assert b"secret-token" not in blob
    assert cipher.decrypt(blob, aad) == b"secret-token"


def test_ciphertext_moved_to_another_row_does_not_decrypt() -> None:
    cipher = CredentialCipher(bytes(32))
    blob = cipher.encrypt(b"secret-token", credential_aad("t", "c1", "jira_itsm"))
    with pytest.raises(DecryptionError):
        cipher.decrypt(blob, credential_aad("t", "c2", "jira_itsm"))


def test_ciphertext_from_another_key_does_not_decrypt() -> None:
    aad = credential_aad("t", "c", "jira_itsm")
    blob = CredentialCipher(bytes(32)).encrypt(b"x", aad)
    with pytest.raises(DecryptionError):
        CredentialCipher(b"\x01" * 32).decrypt(blob, aad)


def test_cipher_refuses_short_keys() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        CredentialCipher(b"short")


def test_signed_webhook_with_right_authorization_is_accepted() -> None:
    auth = WebhookAuthenticator(WEBHOOK_SECRET, WEBHOOK_AUTH)
    headers = signed_headers(BODY, WEBHOOK_SECRET, authorization=WEBHOOK_AUTH, webhook_id="msg_1")
    assert auth.authenticate(BODY, headers).webhook_id == "msg_1"


@pytest.mark.parametrize(
    "tamper",
    ["body", "secret", "stale", "future", "missing", "garbage", "authorization"],
)
def test_tampered_webhook_is_rejected(tamper: str) -> None:
    auth = WebhookAuthenticator(WEBHOOK_SECRET, WEBHOOK_AUTH)
    body = BODY
    headers = signed_headers(BODY, WEBHOOK_SECRET, authorization=WEBHOOK_AUTH)
    if tamper == "body":
        body = BODY + b" "
    elif tamper == "secret":
        headers = signed_headers(BODY, "whsec_" + "QUJD" * 8, authorization=WEBHOOK_AUTH)
    elif tamper == "stale":
        headers = signed_headers(
            BODY,
            WEBHOOK_SECRET,
            authorization=WEBHOOK_AUTH,
            when=datetime.now(UTC) - timedelta(minutes=10),
        )
    elif tamper == "future":
        headers = signed_headers(
            BODY,
            WEBHOOK_SECRET,
            authorization=WEBHOOK_AUTH,
            when=datetime.now(UTC) + timedelta(minutes=10),
        )
    elif tamper == "missing":
        del headers["webhook-signature"]
    elif tamper == "garbage":
        headers["webhook-signature"] = "v1,not base64!! v2"
    else:
        headers["authorization"] = "Bearer wrong"
    with pytest.raises(WebhookRejected):
        auth.authenticate(body, headers)


def test_empty_authorization_setting_skips_that_check() -> None:
    auth = WebhookAuthenticator(WEBHOOK_SECRET, "")
    headers = signed_headers(BODY, WEBHOOK_SECRET, authorization="anything")
    assert auth.authenticate(BODY, headers).webhook_id


def test_missing_required_setting_stops_with_one_line() -> None:
    env = {"PATH": "/usr/bin:/bin", "ITSM_SYNC_ENCRYPTION_KEY": ENCRYPTION_KEY}
    code = "from itsm_sync.config import load_settings; load_settings()"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SYNC_WEBHOOK_SECRET is required" in lines[0]


def test_bad_encryption_key_is_named_without_its_value() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "ITSM_SYNC_ENCRYPTION_KEY": "c2hvcnQ=",
        "SYNC_WEBHOOK_SECRET": "x",
    }
    code = "from itsm_sync.config import load_settings; load_settings()"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "ITSM_SYNC_ENCRYPTION_KEY" in result.stderr
    assert "c2hvcnQ=" not in result.stderr


def test_terminal_runs_never_move() -> None:
    for terminal in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED):
        assert not any(can_move(terminal, target) for target in RunStatus)
    assert can_move(RunStatus.PENDING, RunStatus.RUNNING)
    assert can_move(RunStatus.RUNNING, RunStatus.CANCELLED)
    assert not can_move(RunStatus.PENDING, RunStatus.COMPLETED)
    assert sources_of(RunStatus.COMPLETED) == {RunStatus.RUNNING}


def test_import_jql_limits_time_and_projects() -> None:
    assert import_jql(30) == "updated >= -30d ORDER BY updated ASC"
    assert import_jql(90, ["IT", 'O"P']) == (
        'project in ("IT", "O\\"P") AND updated >= -90d ORDER BY updated ASC'
    )


def test_jira_tickets_keep_the_allow_list_and_refuse_broken_issues() -> None:
    issue = {
        "id": "10001",
        "key": "IT-1",
        "fields": {
            "summary": "VPN down",
            "status": {"name": "Open"},
            "project": {"key": "IT"},
            "updated": "2026-01-31T10:00:00.000+0000",
            "secret_field": "dropped",
        },
    }
    ticket = issue_ticket(issue)
    assert ticket is not None
    assert issue_ticket({"key": "IT-2"}) is None
    assert ticket["external_id"] == "10001"
    assert ticket["ticket_key"] == "IT-1"
    assert ticket["status"] == "Open"
    assert ticket["scope"] == "IT"
    assert ticket["source_updated"] == datetime(2026, 1, 31, 10, tzinfo=UTC)
    assert "secret_field" not in ticket["fields"]


def test_published_bodies_carry_what_ritas_consumer_reads() -> None:
    ids = {"tenant_id": uuid.uuid4(), "connection_id": uuid.uuid4()}
    failed = VerificationMessage.model_validate(
        {**ids, "status": "failed", "error": "Jira rejected the email or API token (401)"}
    )
    assert wire_body(failed) == {
        "type": "verification",
        "tenant_id": str(ids["tenant_id"]),
        "connection_id": str(ids["connection_id"]),
        "status": "failed",
        "error": "Jira rejected the email or API token (401)",
        "error_message": "Jira rejected the email or API token (401)",
    }
    run = TicketIngestionMessage.model_validate(
        {
            **ids,
            "ingestion_run_id": uuid.uuid4(),
            "status": "failed",
            "records_processed": 120,
            "records_failed": 0,
            "total_estimated": 300,
            "error_message": "Jira answered 503",
        }
    )
    body = wire_body(run)
    assert body["type"] == "ticket_ingestion"
    assert body["error_message"] == "Jira answered 503"
    # JSON numbers, not strings: Rita's consumer computes percentages from them.
    assert json.loads(json.dumps(body))["records_processed"] == 120
    assert [type(body[k]) for k in ("records_processed", "records_failed", "total_estimated")] == [
        int,
        int,
        int,
    ]
    assert "error" not in wire_body(
        VerificationMessage.model_validate({**ids, "status": "success", "options": []})
    )
