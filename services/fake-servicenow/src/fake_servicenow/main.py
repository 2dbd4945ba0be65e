"""`fake-servicenow` console script: environment first, CLI flags override."""

from __future__ import annotations

from collections.abc import Sequence

from emulator.server import run, tls_files
from emulator.settings import load_settings
from fake_servicenow.app import create_app
from fake_servicenow.config import SERVICENOW_FLAGS, FakeServiceNowSettings
from observability import configure_observability, instrument_fastapi


def load_config(argv: Sequence[str] | None = None) -> FakeServiceNowSettings:
    """Environment plus flags, or exit with one readable line naming the bad value."""
    return load_settings(
        FakeServiceNowSettings,
        argv,
        prog="fake-servicenow",
        description="ServiceNow Table API emulator (see its README).",
        flags=SERVICENOW_FLAGS,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Start the emulator; SIGTERM stops it gracefully (uvicorn)."""
    settings = load_config(argv)
    configure_observability("fake-servicenow", level=settings.log_level, fmt=settings.log_format)
    tls = tls_files(settings)
    app = create_app(settings)
    instrument_fastapi(app)
    run(app, settings, tls)


if __name__ == "__main__":
    main()
