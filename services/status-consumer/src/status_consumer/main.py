"""`status-consumer` console script: uvicorn serving the FastStream ASGI app on PORT (8002)."""

from __future__ import annotations

import uvicorn

from observability import configure_observability, freeze_startup_objects
from status_consumer.app import create_app
from status_consumer.config import load_settings

# gc.set_threshold: a first generation of 20,000 objects (default 700), so the in-flight
# messages (hundreds, each with its delivery, task and model) die before a collection promotes
# them. Measured: collections took over a third of the CPU per message before, under a tenth
# after; a message leaves about one cyclic object behind.
GC_THRESHOLDS = (20_000, 20, 10)


def main() -> None:
    """Start the consumer; SIGTERM drains the in-flight batch and stops."""
    settings = load_settings()
    configure_observability("status-consumer", level=settings.log_level, fmt=settings.log_format)
    app = create_app(settings)
    freeze_startup_objects(GC_THRESHOLDS)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(settings.graceful_timeout) + 5,
    )
