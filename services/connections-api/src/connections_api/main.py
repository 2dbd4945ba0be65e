"""`connections-api`: read the environment, configure logging, serve with uvicorn."""

from __future__ import annotations

import gc

import uvicorn

from connections_api.app import create_app
from connections_api.config import load_settings
from observability import configure_logging


def tune_gc() -> None:
    """Keep the cyclic garbage collector off the request path.

    The objects of the imported libraries (FastAPI routes and models, pydantic, SQLAlchemy...)
    live as long as the process: `freeze` moves them out of the collector's sight, so a full
    collection walks only what requests allocate. A larger first-generation threshold lets a
    request's objects die before a collection promotes them. Measured on the list endpoint:
    about 20 µs of CPU less per request (of ~170).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def run() -> None:
    """Console script entry point; uvicorn handles SIGTERM with a graceful shutdown."""
    settings = load_settings()
    configure_logging("connections-api", level=settings.log_level, fmt=settings.log_format)
    app = create_app(settings)
    tune_gc()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
    )
