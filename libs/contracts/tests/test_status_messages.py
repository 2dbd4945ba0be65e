"""Status messages: realistic variants parse, bad ones fail with a readable reason."""

import json
import uuid
from typing import Any

import pytest

from contracts import (
    InvalidStatusMessage,
    SyncMessage,
    TicketIngestionMessage,
    VerificationMessage,
    parse_status_message,
)

TENANT, CONNECTION, RUN = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())


def test_verification_success_with_options() -> None:
    raw = json.dumps(
        {
            "type": "verification",
            "connection_id": CONNECTION,
            "tenant_id": TENANT,
            "status": "success",
            "options": {
                "projects": [{"key": "IT", "name": "IT Support"}],
                "issue_types": [{"id": "10001", "name": "Incident"}],
                "statuses": [{"id": "1", "name": "To Do"}],
            },
            "timestamp": "2026-11-28T10:00:00Z",
            "message_id": "m-1",
        }
    ).encode()
    message = parse_status_message(raw)
    assert isinstance(message, VerificationMessage)
    assert message.options is not None
    assert message.options["projects"][0]["key"] == "IT"
    assert message.message_id == "m-1"


def test_verification_failure_with_message_type_and_error_message_alias() -> None:
    message = parse_status_message(
        {
            "message_type": "verification",
            "connection_id": CONNECTION,
            "tenant_id": TENANT,
            "status": "failed",
            "error_message": "Jira rejected the email or API token",
        }
    )
    assert isinstance(message, VerificationMessage)
    assert message.error == "Jira rejected the email or API token"
    assert message.timestamp is None


def test_ticket_ingestion_progress_from_ritas_mock_with_error_and_extras() -> None:
    message = parse_status_message(
        json.dumps(
            {
                "type": "ticket_ingestion",
                "ingestion_run_id": RUN,
                "tenant_id": TENANT,
                "status": "failed",
                "records_processed": 10,
                "records_failed": 1,
                "total_estimated": 100,
                "error": "Jira is unavailable",
                "error_detail": {"error_code": "unreachable"},
                "source": "mock",
            }
        )
    )
    assert isinstance(message, TicketIngestionMessage)
    assert message.error_message == "Jira is unavailable"
    assert message.error_detail == {"error_code": "unreachable"}
    assert message.connection_id is None


def test_ticket_ingestion_without_type_is_inferred_from_run_id() -> None:
    message = parse_status_message(
        {"ingestion_run_id": RUN, "tenant_id": TENANT, "status": "running", "records_processed": 5}
    )
    assert isinstance(message, TicketIngestionMessage)


def test_knowledge_sync_message() -> None:
    message = parse_status_message(
        {
            "type": "sync",
            "connection_id": CONNECTION,
            "tenant_id": TENANT,
            "status": "sync_completed",
            "documents_processed": 42,
        }
    )
    assert isinstance(message, SyncMessage)
    assert message.documents_processed == 42


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe not json", "not valid JSON"),
        ('{"type": "sync", "error_message": "a\\u0000b"}', "NUL character"),
        (b'{"type": "sync", "error_message": "a\\u0000b"}', "NUL character"),
        ("{", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ({"tenant_id": TENANT, "status": "success"}, "no `type`"),
        ({"type": "teleport", "tenant_id": TENANT}, "unknown message type"),
        (
            {
                "type": "verification",
                "connection_id": "nope",
                "tenant_id": TENANT,
                "status": "success",
            },
            "connection_id",
        ),
        (
            {
                "type": "ticket_ingestion",
                "ingestion_run_id": RUN,
                "tenant_id": TENANT,
                "status": "done",
            },
            "status",
        ),
        (
            {
                "type": "ticket_ingestion",
                "ingestion_run_id": RUN,
                "tenant_id": TENANT,
                "status": "running",
                "records_processed": -1,
            },
            "records_processed",
        ),
    ],
)
def test_bad_messages_raise_a_readable_reason(raw: Any, reason: str) -> None:
    with pytest.raises(InvalidStatusMessage) as info:
        parse_status_message(raw)
    assert reason in str(info.value)
    assert isinstance(info.value, ValueError)
