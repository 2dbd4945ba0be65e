"""Public shapes of the stored rows, as the API returns them and events carry them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.errors import ErrorCode
from contracts.types import ConnectionStatus, DataSourceType, IngestionRunStatus, LastSyncStatus


class ConnectionPublic(BaseModel):
    """A `data_source_connections` row; never contains a secret."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: UUID
    tenant_id: UUID
    type: DataSourceType
    name: str
    description: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    latest_options: dict[str, Any] | list[Any] | None = None
    status: ConnectionStatus
    enabled: bool
    last_verification_at: datetime | None = None
    last_verified_at: datetime | None = None
    last_verification_error: str | None = None
    last_verification_error_code: ErrorCode | None = None
    last_sync_at: datetime | None = None
    last_sync_status: LastSyncStatus | None = None
    last_sync_error: str | None = None
    version: int
    created_by: str | None = None
    updated_by: str | None = None
    created_at: datetime
    updated_at: datetime


class ConnectionsPublic(BaseModel):
    """A list of connections."""

    data: list[ConnectionPublic]
    count: int


class IngestionRunPublic(BaseModel):
    """An `ingestion_runs` row."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: UUID
    tenant_id: UUID
    connection_id: UUID
    started_by: str | None = None
    status: IngestionRunStatus
    time_range_days: int
    records_processed: int = 0
    records_failed: int = 0
    total_estimated: int | None = None
    error_message: str | None = None
    error_code: ErrorCode | None = None
    error_detail: dict[str, Any] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    updated_at: datetime


class IngestionRunsPublic(BaseModel):
    """A page of runs, newest first."""

    data: list[IngestionRunPublic]
    count: int
