"""`connections-api`: read the environment, configure logging, serve with uvicorn."""

from __future__ import annotations

import uvicorn

from connections_api.app import create_app
from connections_api.config import load_settings
from observability import configure_observability, freeze_startup_objects, instrument_fastapi


def run() -> None:
    """Console script entry point; uvicorn handles SIGTERM with a graceful shutdown."""
    settings = load_settings()
    configure_observability("connections-api", level=settings.log_level, fmt=settings.log_format)
    app = create_app(settings)
    instrument_fastapi(app)
    # Measured on the list endpoint: about 20 µs of CPU less per request (of ~170) with a
    # first-generation threshold that lets a request's objects die before they are promoted.
    freeze_startup_objects((10_000, 10, 10))
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
    )
