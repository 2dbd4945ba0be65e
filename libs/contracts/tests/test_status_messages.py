"""Status messages: realistic variants parse, bad ones fail with a readable reason."""

import json
import uuid
from typing import Any

import pytest

from contracts import (
    ERROR_TEXT_MAX_LENGTH,
    TRUNCATION_MARKER,
    InvalidStatusMessage,
    SyncMessage,
    TicketIngestionMessage,
    VerificationMessage,
    parse_status_message,
)
from contracts.status_messages import MAX_JSON_DEPTH

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
    assert isinstance(message.options, dict)
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


def test_ritas_verification_variants_parse() -> None:
    # Rita's platform script: `message_type`, options as an array, nulls when absent.
    success = parse_status_message(
        json.dumps(
            {
                "message_type": "verification",
                "connection_id": CONNECTION,
                "tenant_id": TENANT,
                "status": "success",
                "options": [{"key": "IT", "name": "IT Support"}],
                "error": None,
            }
        )
    )
    assert isinstance(success, VerificationMessage)
    assert success.options == [{"key": "IT", "name": "IT Support"}]
    failure = parse_status_message(
        {
            "message_type": "verification",
            "connection_id": CONNECTION,
            "tenant_id": TENANT,
            "status": "failed",
            "options": None,
            "error": "Authentication failed",
        }
    )
    assert isinstance(failure, VerificationMessage)
    assert (failure.options, failure.error) == (None, "Authentication failed")


def test_verification_echoes_its_id() -> None:
    vid = str(uuid.uuid4())
    message = parse_status_message(
        {
            "type": "verification",
            "connection_id": CONNECTION,
            "tenant_id": TENANT,
            "status": "success",
            "verification_id": vid,
        }
    )
    assert isinstance(message, VerificationMessage)
    assert str(message.verification_id) == vid


@pytest.mark.parametrize("kind", ["verification", "ticket_ingestion", "sync"])
def test_error_alias_and_long_texts_are_truncated_on_every_type(kind: str) -> None:
    body: dict[str, Any] = {
        "type": kind,
        "tenant_id": TENANT,
        "connection_id": CONNECTION,
        "ingestion_run_id": RUN,
        "status": {"verification": "failed", "ticket_ingestion": "failed", "sync": "sync_failed"}[
            kind
        ],
        "error": "É" * 5000,
    }
    message = parse_status_message(json.dumps(body).encode())
    text = message.error if isinstance(message, VerificationMessage) else message.error_message
    assert text is not None
    assert len(text) == ERROR_TEXT_MAX_LENGTH
    assert text == "É" * (ERROR_TEXT_MAX_LENGTH - len(TRUNCATION_MARKER)) + TRUNCATION_MARKER


def test_short_error_text_is_kept_whole() -> None:
    text = "x" * ERROR_TEXT_MAX_LENGTH
    message = parse_status_message(
        {"type": "sync", "tenant_id": TENANT, "connection_id": CONNECTION, "status": "sync_failed",
         "error_message": text}
    )  # fmt: skip
    assert isinstance(message, SyncMessage)
    assert message.error_message == text


def test_cancelled_ticket_ingestion_is_accepted() -> None:
    message = parse_status_message(
        {"ingestion_run_id": RUN, "tenant_id": TENANT, "status": "cancelled"}
    )
    assert isinstance(message, TicketIngestionMessage)
    assert message.status == "cancelled"


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"k": value}
    return value


def test_counters_up_to_the_integer_column_are_accepted() -> None:
    message = parse_status_message(
        {"ingestion_run_id": RUN, "tenant_id": TENANT, "status": "running",
         "records_processed": 2**31 - 1, "error_detail": _nested(MAX_JSON_DEPTH)}
    )  # fmt: skip
    assert isinstance(message, TicketIngestionMessage)
    assert message.records_processed == 2**31 - 1


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"records_processed": 2**31}, "records_processed"),
        ({"records_failed": 10**12}, "records_failed"),
        ({"total_estimated": 2**31}, "total_estimated"),
        ({"error_detail": _nested(MAX_JSON_DEPTH + 1)}, "nested deeper than"),
    ],
)
def test_messages_that_could_never_be_stored_are_refused(
    extra: dict[str, Any], reason: str
) -> None:
    body = {"ingestion_run_id": RUN, "tenant_id": TENANT, "status": "running", **extra}
    with pytest.raises(InvalidStatusMessage) as info:
        parse_status_message(json.dumps(body))
    assert reason in str(info.value)


def test_options_nested_too_deep_are_refused() -> None:
    body = {"type": "verification", "connection_id": CONNECTION, "tenant_id": TENANT,
            "status": "success", "options": [_nested(MAX_JSON_DEPTH)]}  # fmt: skip
    with pytest.raises(InvalidStatusMessage, match="nested deeper than"):
        parse_status_message(body)


def test_json_too_deep_to_parse_is_refused() -> None:
    raw = '{"type": "sync", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(InvalidStatusMessage, match="nested too deep"):
        parse_status_message(raw)


@pytest.mark.parametrize("raw_type", [bytes, str])
def test_lone_surrogate_is_refused_and_a_pair_accepted(raw_type: type) -> None:
    def body(error: str) -> Any:
        fields = f'"tenant_id": "{TENANT}", "connection_id": "{CONNECTION}"'
        text = f'{{"type": "sync", {fields}, "status": "sync_failed", "error": "{error}"}}'
        return text.encode() if raw_type is bytes else text

    with pytest.raises(InvalidStatusMessage, match="surrogate"):
        parse_status_message(body("\\ud800 oops"))
    message = parse_status_message(body("\\ud83d\\ude00"))
    assert isinstance(message, SyncMessage)
    assert message.error_message == "\U0001f600"


@pytest.mark.parametrize(
    "body",
    [
        {"type": "ticket_ingestion", "tenant_id": TENANT, "ingestion_run_id": RUN,
         "status": "running", "records_processed": 10.0, "timestamp": "2026-01-01T00:00:01"},
        {"ingestion_run_id": RUN, "tenant_id": TENANT, "status": "failed",
         "error": "x" * (ERROR_TEXT_MAX_LENGTH + 1), "error_detail": {"n": 10**30, "f": 0.1}},
        {"message_type": "verification", "tenant_id": TENANT, "connection_id": CONNECTION,
         "status": "success", "options": [{"key": "OPS"}], "error": None},
        {"type": "verification", "message_type": "sync", "tenant_id": TENANT,
         "connection_id": CONNECTION, "status": "failed", "timestamp": 1767225600},
        {"type": "sync", "tenant_id": TENANT, "connection_id": CONNECTION,
         "status": "sync_completed", "documents_processed": 3, "extra": {"a": [1, 2]}},
    ],
)  # fmt: skip
def test_a_body_parses_as_its_decoded_object_does(body: dict[str, Any]) -> None:
    # Bytes in the contract's shape take pydantic's JSON validation, the rest the general path:
    # either way the message is the one its decoded object gives.
    raw = json.dumps(body)
    expected = parse_status_message(body)
    assert parse_status_message(raw) == expected
    assert parse_status_message(raw.encode()) == expected
