"""Event names, Redis keys, the URL policy, the public surface, and the committed JSON Schema."""

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

import contracts
from contracts import (
    ConnectionPublic,
    DataSourceUpdateEvent,
    EventName,
    UnsafeUrlError,
    check_outbound_url,
    events_channel_pattern,
    parse_allowed_hosts,
    tenant_events_key,
    tenant_from_key,
)
from contracts.schema_export import DEFAULT_OUTPUT, render_schemas


def test_tenant_key_round_trip() -> None:
    tenant = uuid.uuid4()
    key = tenant_events_key(tenant)
    assert key == f"rita:events:{tenant}"
    assert tenant_from_key(key) == str(tenant)
    assert tenant_from_key("other:key") is None
    assert events_channel_pattern() == "rita:events:*"


def test_data_source_update_event_carries_the_public_row() -> None:
    now = datetime.now(UTC)
    row = ConnectionPublic(
        id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        type=contracts.DataSourceType.JIRA_ITSM,
        name="Jira ITSM",
        status=contracts.ConnectionStatus.IDLE,
        enabled=False,
        version=1,
        created_at=now,
        updated_at=now,
    )
    event = DataSourceUpdateEvent(data=row)
    assert event.event is EventName.DATA_SOURCE_UPDATE
    assert DataSourceUpdateEvent.model_validate_json(event.model_dump_json()) == event


@pytest.mark.parametrize(
    "url",
    [
        "http://company.atlassian.net",
        "https://127.0.0.1",
        "https://10.1.2.3",
        "https://169.254.169.254/latest",
        "https://[::1]:8443",
        "https://localhost",
    ],
)
def test_outbound_policy_refuses_private_and_plain_http(url: str) -> None:
    with pytest.raises(UnsafeUrlError):
        check_outbound_url(url, frozenset())


@pytest.mark.parametrize(
    "url", ["https://x.example.com:99999", "https://[bad", "https://x.example.com:abc/"]
)
def test_outbound_policy_refuses_a_malformed_url_as_unsafe(url: str) -> None:
    # Callers catch UnsafeUrlError; a bare ValueError from urlsplit was an API 500.
    with pytest.raises(UnsafeUrlError):
        check_outbound_url(url, frozenset())


def test_outbound_policy_allows_listed_hosts_and_unresolvable_names() -> None:
    allowed = parse_allowed_hosts("127.0.0.1:8004, fake-jira")
    check_outbound_url("http://127.0.0.1:8004", allowed)
    check_outbound_url("http://fake-jira/rest", allowed)
    check_outbound_url("https://8.8.8.8", frozenset())
    check_outbound_url("https://does-not-resolve.invalid", frozenset())


def test_public_surface_is_pinned() -> None:
    assert "parse_status_message" in contracts.__all__
    assert all(hasattr(contracts, name) for name in contracts.__all__)
    assert sorted(contracts.__all__) == sorted(set(contracts.__all__))


def test_committed_json_schema_is_current() -> None:
    rendered = render_schemas()
    committed = {p.name: p.read_text() for p in Path(DEFAULT_OUTPUT).glob("*.json")}
    assert committed == rendered, "libs/contracts/schema is stale: run `make schema`"
