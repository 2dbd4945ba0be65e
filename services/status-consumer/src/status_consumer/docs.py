"""The AsyncAPI document of the consumer (`python -m status_consumer.docs` prints it)."""

from __future__ import annotations

import json
from typing import Any

from contracts import STATUS_QUEUE
from status_consumer.app import create_app
from status_consumer.config import Settings

# Fixed inputs so the document does not depend on the environment (and carries no password).
_DOC_BROKER_URL = "amqp://127.0.0.1:5672/"


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI document as a JSON-ready dict."""
    settings = Settings(rabbitmq_url=_DOC_BROKER_URL, status_queue=STATUS_QUEUE)
    app = create_app(settings)
    document: dict[str, Any] = app.schema.to_specification().to_jsonable()
    return document


def asyncapi_json() -> str:
    """Stable text of the document (sorted keys, trailing newline)."""
    return json.dumps(asyncapi_document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(asyncapi_json(), end="")  # noqa: T201
