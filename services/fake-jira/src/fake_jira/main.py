"""`fake-jira` console script: environment first, CLI flags override."""

from __future__ import annotations

from collections.abc import Sequence

from emulator.server import start
from emulator.settings import load_settings
from fake_jira.app import create_app
from fake_jira.config import JIRA_FLAGS, FakeJiraConfig


def load_config(argv: Sequence[str] | None = None) -> FakeJiraConfig:
    """Environment plus flags, or exit with one readable line naming the bad value."""
    return load_settings(
        FakeJiraConfig,
        argv,
        prog="fake-jira",
        description="Jira Cloud REST API (v3 and v2) emulator (see its README).",
        flags=JIRA_FLAGS,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Start the emulator; SIGTERM stops it gracefully (uvicorn). `--tls` serves HTTPS."""
    start("fake-jira", load_config(argv), create_app)


if __name__ == "__main__":
    main()
