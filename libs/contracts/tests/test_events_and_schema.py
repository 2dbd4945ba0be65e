"""Event names, Redis keys, the URL policy, the public surface, and the committed JSON Schema."""

import uuid
from datetime import UTC, datetime
from pathlib import Path

import contracts
from contracts import (
    ConnectionPublic,
    DataSourceUpdateEvent,
    EventName,
    events_channel_pattern,
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


def test_public_surface_is_pinned() -> None:
    assert "parse_status_message" in contracts.__all__
    assert all(hasattr(contracts, name) for name in contracts.__all__)
    assert sorted(contracts.__all__) == sorted(set(contracts.__all__))


def test_committed_json_schema_is_current() -> None:
    rendered = render_schemas()
    committed = {p.name: p.read_text() for p in Path(DEFAULT_OUTPUT).glob("*.json")}
    assert committed == rendered, "libs/contracts/schema is stale: run `make schema`"
