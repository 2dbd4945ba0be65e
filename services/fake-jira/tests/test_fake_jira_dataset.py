"""Determinism of the seeded data set, its spread, and configuration parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from emulator.seeding import DAY_MS
from fake_jira.config import FakeJiraConfig
from fake_jira.dataset import generate
from fake_jira.main import load_config
from fake_jira.render import jira_time
from fake_jira.testing import DEV_EMAIL, DEV_TOKEN, running_fake_jira

ANCHOR = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def test_same_seed_same_data() -> None:
    first = generate(seed=9, issues=2000, projects=4, days=365, anchor=ANCHOR)
    second = generate(seed=9, issues=2000, projects=4, days=365, anchor=ANCHOR)
    assert first == second
    other = generate(seed=10, issues=2000, projects=4, days=365, anchor=ANCHOR)
    assert other.issues != first.issues


def test_issues_spread_over_the_configured_days() -> None:
    data = generate(seed=1, issues=10_000, projects=6, days=90, anchor=ANCHOR)
    anchor_ms = int(ANCHOR.timestamp() * 1000)
    updated = [issue.updated_ms for issue in data.issues]
    assert min(updated) > anchor_ms - 90 * DAY_MS
    assert max(updated) < anchor_ms
    assert max(updated) - min(updated) > 85 * DAY_MS
    assert all(issue.created_ms <= issue.updated_ms for issue in data.issues)
    assert len({issue.project for issue in data.issues}) == 6
    assert len({issue.status for issue in data.issues}) == 5
    assert len({issue.key for issue in data.issues}) == 10_000
    ids = [issue.id for issue in data.issues]
    assert ids == sorted(ids)


def test_jira_timestamp_format() -> None:
    assert jira_time(int(ANCHOR.timestamp() * 1000) + 7) == "2026-11-28T10:00:00.007+0000"


async def _snapshot(config: FakeJiraConfig) -> list[dict[str, Any]]:
    async with (
        running_fake_jira(config) as url,
        httpx.AsyncClient(base_url=url, auth=(DEV_EMAIL, DEV_TOKEN)) as http,
    ):
        response = await http.post(
            "/rest/api/3/search/jql",
            json={"jql": "project = SUP ORDER BY key", "maxResults": 50, "fields": ["*all"]},
        )
        issues: list[dict[str, Any]] = response.json()["issues"]
    # `self` links carry the (random) port; everything else must be identical.
    assert len(issues) == 50
    return [_strip_urls(i) for i in issues]


def _strip_urls(value: Any) -> Any:
    if isinstance(value, dict):
        skipped = ("self", "iconUrl", "avatarUrls")
        return {k: _strip_urls(v) for k, v in value.items() if k not in skipped}
    if isinstance(value, list):
        return [_strip_urls(v) for v in value]
    return value


async def test_two_servers_with_the_same_seed_serve_the_same_issues() -> None:
    config = FakeJiraConfig(issues=300, seed=21, now=ANCHOR)
    assert await _snapshot(config) == await _snapshot(config)


def test_accounts_parsing() -> None:
    config = FakeJiraConfig(accounts="a@example.com:t1, b@example.com:t2:nobrowse")
    assert [(a.login, a.has("nobrowse")) for a in config.account_list()] == [
        ("a@example.com", False),
        ("b@example.com", True),
    ]
    for bad in ("nocolon", "a@example.com:t:admin", ":token"):
        with pytest.raises(ValidationError, match="FAKE_JIRA_ACCOUNTS"):
            FakeJiraConfig(accounts=bad)


def test_environment_and_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_JIRA_ISSUES", "123")
    monkeypatch.setenv("FAKE_JIRA_RATE_LIMIT", "20")
    monkeypatch.setenv("PORT", "9123")
    config = load_config([])
    assert (config.issues, config.rate_limit, config.port, config.bucket_size()) == (
        123,
        20.0,
        9123,
        20,
    )
    flagged = load_config(["--issues", "7", "--error-rate", "0.25", "--burst", "5"])
    assert (flagged.issues, flagged.error_rate, flagged.bucket_size()) == (7, 0.25, 5)


def test_invalid_configuration_exits_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_JIRA_ERROR_RATE", "2")
    with pytest.raises(SystemExit) as exited:
        load_config([])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "FAKE_JIRA_ERROR_RATE" in err
