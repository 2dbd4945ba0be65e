"""Fidelity, judged by clients nobody here wrote: PyPI's `jira` and `atlassian-python-api`,
each installed in an isolated environment (`uv run --isolated`), read myself, server info,
projects, fields, a search and one issue from fake-jira; the answers must match the seeded
data set. Needs PyPI: without it these fail with a message saying so (marker `pypi`).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from emulator.process import EmulatorProcess, emulator_process, isolated_run
from fake_jira.dataset import Dataset, generate
from fake_jira.render import FIELD_DEFINITIONS
from fake_jira.testing import DEV_EMAIL, DEV_TOKEN

pytestmark = pytest.mark.pypi

CLIENTS = Path(__file__).parent / "clients"
JIRA = "jira==3.10.5"
ATLASSIAN = "atlassian-python-api==5.0.5"
SEED, ISSUES, NOW = 11, 400, "2026-11-30T12:00:00+00:00"
JQL = "project = OPS ORDER BY key ASC"


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate(
        seed=SEED, issues=ISSUES, projects=4, days=365, anchor=datetime.fromisoformat(NOW)
    )


@pytest.fixture(scope="module")
def jira() -> Iterator[EmulatorProcess]:
    argv = [sys.executable, "-m", "fake_jira.main", "--host", "127.0.0.1", "--port", "0"]
    argv += ["--issues", str(ISSUES), "--seed", str(SEED), "--now", NOW]
    env = dict(os.environ, FAKE_JIRA_ACCOUNTS=f"{DEV_EMAIL}:{DEV_TOKEN}")
    with emulator_process(argv, env=env) as running:
        yield running


def ops_keys(dataset: Dataset) -> list[str]:
    ops = [issue for issue in dataset.issues if dataset.projects[issue.project][0] == "OPS"]
    return [issue.key for issue in sorted(ops, key=lambda issue: issue.number)]


def read_with(requirement: str, script: str, jira: EmulatorProcess) -> dict[str, Any]:
    out = isolated_run(
        [requirement],
        ["python", str(CLIENTS / script), jira.base_url, DEV_EMAIL, DEV_TOKEN, JQL],
    )
    result: dict[str, Any] = json.loads(out)
    return result


def test_jira_package_reads_the_site(jira: EmulatorProcess, dataset: Dataset) -> None:
    seen = read_with(JIRA, "jira_client.py", jira)
    keys = ops_keys(dataset)
    assert seen["deployment"] == "Cloud"
    assert seen["cloud"] is True
    assert seen["myself"] == DEV_EMAIL
    assert seen["projects"] == ["SUP", "OPS", "HR", "FAC"]
    assert seen["project_names"] == ["IT Support", "Operations", "People Services", "Facilities"]
    assert seen["fields"] == sorted(["issuekey", *(f[0] for f in FIELD_DEFINITIONS)])
    assert seen["total"] == len(keys)
    assert seen["keys"] == keys
    first = dataset.by_key[keys[0]]
    reporter = dataset.users[first.reporter].display_name
    assert seen["issue"] == {
        "key": first.key,
        "summary": first.summary,
        # The client calls REST v2: rich text arrives as plain strings.
        "description": f"{first.summary}. Reported by {reporter}.\n\n"
        "Steps taken so far: restarted the device and tried again.",
        "status": ["Open", "In Progress", "Waiting for customer", "Resolved", "Closed"][
            first.status
        ],
        "comments": seen["issue"]["comments"],
    }
    comments = seen["issue"]["comments"]
    assert len(comments) == first.id % 3
    assert all(isinstance(body, str) for body in comments)


def test_atlassian_python_api_reads_the_site(jira: EmulatorProcess, dataset: Dataset) -> None:
    seen = read_with(ATLASSIAN, "atlassian_client.py", jira)
    keys = ops_keys(dataset)
    assert seen["deployment"] == "Cloud"
    assert seen["myself"] == DEV_EMAIL
    assert seen["projects"] == ["SUP", "OPS", "HR", "FAC"]
    assert "summary" in seen["fields"]
    assert seen["total"] == len(keys)
    assert seen["keys"] == keys  # offset-paged /rest/api/2/search, pages of 25
    assert seen["enhanced_keys"] == keys  # token-paged /rest/api/3/search/jql
    first = dataset.by_key[keys[0]]
    issue = seen["issue"]
    assert isinstance(issue, dict)
    assert (issue["key"], issue["summary"]) == (first.key, first.summary)
    assert isinstance(issue["description"], str)
    assert issue["description"].startswith(f"{first.summary}. Reported by ")
    assert len(issue["comments"]) == first.id % 3
    assert all(isinstance(body, str) for body in issue["comments"])
