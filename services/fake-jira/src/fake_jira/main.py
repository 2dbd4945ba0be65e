"""`fake-jira` console script: environment first, CLI flags override."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import uvicorn
from pydantic import ValidationError

from fake_jira.app import create_app
from fake_jira.config import FakeJiraConfig
from observability import configure_logging

_FLAGS: tuple[tuple[str, type, str], ...] = (
    ("host", str, "interface to bind (HOST or FAKE_JIRA_HOST, default 0.0.0.0)"),
    ("port", int, "port (PORT or FAKE_JIRA_PORT, default 8004)"),
    ("accounts", str, "email:token[:nobrowse],... (FAKE_JIRA_ACCOUNTS)"),
    ("seed", int, "data set seed (FAKE_JIRA_SEED, default 42)"),
    ("issues", int, "number of issues (FAKE_JIRA_ISSUES, default 2000)"),
    ("projects", int, "number of projects, 1-8 (FAKE_JIRA_PROJECTS, default 4)"),
    ("days", float, "issues are updated within this many days (FAKE_JIRA_DAYS, default 365)"),
    ("now", str, "ISO time the data set is anchored at (FAKE_JIRA_NOW, default: start time)"),
    ("rate-limit", float, "burst limit per account, requests/s; 0 = off (FAKE_JIRA_RATE_LIMIT)"),
    ("burst", int, "token bucket size (FAKE_JIRA_BURST, default: one second's worth)"),
    ("latency-ms", float, "added latency per request (FAKE_JIRA_LATENCY_MS)"),
    ("latency-jitter-ms", float, "extra uniform jitter (FAKE_JIRA_LATENCY_JITTER_MS)"),
    ("error-rate", float, "share of requests answered 5xx, 0-1 (FAKE_JIRA_ERROR_RATE)"),
    ("error-statuses", str, "5xx codes to inject, e.g. 500,502,503 (FAKE_JIRA_ERROR_STATUSES)"),
    ("max-results-cap", int, "largest /search/jql page (FAKE_JIRA_MAX_RESULTS_CAP, default 100)"),
    ("public-url", str, "base URL for `self` links (FAKE_JIRA_PUBLIC_URL)"),
)


def parse_args(argv: Sequence[str] | None) -> dict[str, Any]:
    """The flags given on the command line (unset ones are left to the environment)."""
    parser = argparse.ArgumentParser(
        prog="fake-jira", description="Jira Cloud REST API v3 emulator (see its README)."
    )
    for name, kind, text in _FLAGS:
        parser.add_argument(f"--{name}", type=kind, help=text, default=None)
    given = vars(parser.parse_args(argv))
    return {key: value for key, value in given.items() if value is not None}


def load_config(argv: Sequence[str] | None = None) -> FakeJiraConfig:
    """Environment plus flags, or exit with one readable line naming the bad value."""
    overrides = parse_args(argv)
    try:
        base = FakeJiraConfig()
        return FakeJiraConfig.model_validate(base.model_dump() | overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "configuration"
        env = "PORT" if name == "port" else f"FAKE_JIRA_{name.upper()}"
        print(f"fake-jira: invalid {env}: {error['msg']}", file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from None


def main(argv: Sequence[str] | None = None) -> None:
    """Start the emulator; SIGTERM stops it gracefully (uvicorn)."""
    config = load_config(argv)
    configure_logging("fake-jira", level=config.log_level, fmt=config.log_format)
    app = create_app(config)
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
