"""`fake-servicenow` console script: environment first, CLI flags override."""

from __future__ import annotations

from collections.abc import Sequence

from emulator.server import start
from emulator.settings import load_settings
from fake_servicenow.app import create_app
from fake_servicenow.config import SERVICENOW_FLAGS, FakeServiceNowSettings


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
    """Start the emulator; SIGTERM stops it gracefully (uvicorn). `--tls` serves HTTPS."""
    start("fake-servicenow", load_config(argv), create_app)


if __name__ == "__main__":
    main()
