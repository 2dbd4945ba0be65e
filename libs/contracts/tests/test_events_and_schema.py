"""Event names, Redis keys, the URL policy, the public surface, and the committed JSON Schema."""

import ast
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


def test_cluster_key_is_hash_tagged_and_round_trips() -> None:
    tenant = uuid.uuid4()
    key = tenant_events_key(tenant, "p:", cluster=True)
    assert key == f"p:{{{tenant}}}"  # the tenant id alone decides the slot
    assert tenant_from_key(key, "p:") == str(tenant)


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


def _names_imported_from_contracts() -> dict[str, str]:
    """Every `from contracts import X` in the repository: name → one file that uses it."""
    root = Path(__file__).resolve().parents[3]
    used: dict[str, str] = {}
    for folder in ("libs", "services", "tools", "bench", "tests"):
        for path in (root / folder).rglob("*.py"):
            if ".venv" in path.parts or "node_modules" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.ImportFrom) and node.module == "contracts":
                    for alias in node.names:
                        used.setdefault(alias.name, str(path.relative_to(root)))
    return used


def test_public_surface_holds_every_name_the_other_parts_import() -> None:
    used = _names_imported_from_contracts()
    assert len(used) > 50  # the scan found the repository's imports
    missing = {name: where for name, where in used.items() if name not in contracts.__all__}
    assert missing == {}, "imported from contracts but not exported"
    unresolved = [name for name in contracts.__all__ if not hasattr(contracts, name)]
    assert unresolved == []
    assert len(contracts.__all__) == len(set(contracts.__all__))


def test_committed_json_schema_is_current() -> None:
    rendered = render_schemas()
    committed = {p.name: p.read_text() for p in Path(DEFAULT_OUTPUT).glob("*.json")}
    assert committed == rendered, "libs/contracts/schema is stale: run `make schema`"
