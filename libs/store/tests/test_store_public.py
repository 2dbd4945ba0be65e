"""Rows convert to their public shapes."""

from datetime import UTC, datetime
from uuid import uuid4

from contracts import ConnectionStatus, IngestionRunStatus
from store.public import connection_public, run_public
from store.tables import DataSourceConnection, IngestionRun


def test_connection_public_copies_every_field() -> None:
    now = datetime.now(UTC)
    row = DataSourceConnection(
        tenant_id=uuid4(),
        type="jira_itsm",
        name="Jira ITSM",
        settings={"base_url": "https://x.atlassian.net", "email": "a@b.co"},
        created_at=now,
        updated_at=now,
    )
    public = connection_public(row)
    assert public.id == row.id
    assert public.status is ConnectionStatus.IDLE
    assert public.settings == row.settings
    assert public.version == 1


def test_run_public_maps_run_metadata_to_metadata() -> None:
    now = datetime.now(UTC)
    row = IngestionRun(
        tenant_id=uuid4(),
        connection_id=uuid4(),
        time_range_days=30,
        run_metadata={"k": "v"},
        created_at=now,
        updated_at=now,
    )
    public = run_public(row)
    assert public.metadata == {"k": "v"}
    assert public.status is IngestionRunStatus.PENDING
    assert public.records_processed == 0
