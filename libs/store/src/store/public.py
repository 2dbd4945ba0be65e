"""Stored rows → the public shapes the API returns and events carry."""

from __future__ import annotations

from contracts import ConnectionPublic, IngestionRunPublic
from store.tables import DataSourceConnection, IngestionRun


def connection_public(row: DataSourceConnection) -> ConnectionPublic:
    """The public row of a connection (the row must be loaded: timestamps set)."""
    return ConnectionPublic.model_validate(row, from_attributes=True)


def run_public(row: IngestionRun) -> IngestionRunPublic:
    """The public row of an ingestion run (`run_metadata` is published as `metadata`)."""
    data = {
        name: getattr(row, name) for name in IngestionRunPublic.model_fields if name != "metadata"
    }
    data["metadata"] = row.run_metadata or {}
    return IngestionRunPublic.model_validate(data)
