"""`itsm-sync` console script: read the settings, log as JSON, serve on PORT (8003)."""

from __future__ import annotations

import uvicorn

from itsm_sync.app import create_app
from itsm_sync.config import load_settings
from observability import configure_observability, instrument_fastapi


def main() -> None:
    """Start the service; uvicorn turns SIGTERM into a graceful lifespan shutdown."""
    settings = load_settings()
    configure_observability("itsm-sync", level=settings.log_level, fmt=settings.log_format)
    app = create_app(settings)
    instrument_fastapi(app)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        timeout_graceful_shutdown=int(settings.itsm_sync_shutdown_grace) + 5,
    )


if __name__ == "__main__":
    main()
