"""Write the JSON Schema of every public contract to `libs/contracts/schema/` (for the console)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from contracts.connection_settings import (
    JiraItsmConfig,
    JiraItsmCredentials,
    JiraItsmSettings,
    ServiceNowConfig,
    ServiceNowCredentials,
    ServiceNowSettings,
)
from contracts.events import (
    DataSourceUpdateEvent,
    IngestionRunUpdateEvent,
    PublishedEvent,
    ReconnectEvent,
    ResyncEvent,
)
from contracts.public import (
    ConnectionPublic,
    ConnectionsPublic,
    IngestionRunPublic,
    IngestionRunsPublic,
)
from contracts.status_messages import StatusMessage
from contracts.webhooks import WebhookPayload

PUBLIC_MODELS: tuple[type[BaseModel], ...] = (
    ConnectionPublic,
    ConnectionsPublic,
    IngestionRunPublic,
    IngestionRunsPublic,
    JiraItsmSettings,
    JiraItsmCredentials,
    ServiceNowSettings,
    ServiceNowCredentials,
    JiraItsmConfig,
    ServiceNowConfig,
    DataSourceUpdateEvent,
    IngestionRunUpdateEvent,
    ResyncEvent,
    ReconnectEvent,
    PublishedEvent,
)
UNIONS: dict[str, Any] = {"StatusMessage": StatusMessage, "WebhookPayload": WebhookPayload}
DEFAULT_OUTPUT = Path(__file__).resolve().parents[2] / "schema"


def render_schemas() -> dict[str, str]:
    """File name → JSON text, for every public model."""
    schemas: dict[str, dict[str, Any]] = {
        model.__name__: model.model_json_schema(mode="validation") for model in PUBLIC_MODELS
    }
    for name, union in UNIONS.items():
        schemas[name] = TypeAdapter(union).json_schema(mode="validation")
    return {
        f"{name}.json": json.dumps(schema, indent=2, sort_keys=True) + "\n"
        for name, schema in sorted(schemas.items())
    }


def main() -> None:
    """Entry point of `contracts-schema`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    output: Path = args.output
    output.mkdir(parents=True, exist_ok=True)
    rendered = render_schemas()
    for stale in output.glob("*.json"):
        if stale.name not in rendered:
            stale.unlink()
    for name, text in rendered.items():
        (output / name).write_text(text)
    print(f"wrote {len(rendered)} schemas to {output}")  # noqa: T201


if __name__ == "__main__":
    main()
