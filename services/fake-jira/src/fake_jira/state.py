"""The emulator's state: data set, site clock, search engine, renderers and the shared core."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from emulator.accounts import Account
from emulator.core import EmulatorCore
from emulator.limits import Decision
from emulator.seeding import SiteClock, anchor
from fake_jira.config import FakeJiraConfig
from fake_jira.dataset import Dataset, User, account_id_for, generate
from fake_jira.render import Renderer
from fake_jira.search import SearchEngine

_NEAR_LIMIT = 0.2  # Jira flags answers with less than 20 % of the budget left


def limit_headers(decision: Decision) -> dict[str, str]:
    """Jira's rate-limit headers, on every answer to a limited account (429s add more)."""
    headers = {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
    }
    if decision.remaining < _NEAR_LIMIT * decision.limit:
        headers["X-RateLimit-NearLimit"] = "true"
    if not decision.allowed:
        reset = datetime.now(UTC) + timedelta(seconds=decision.retry_after)
        headers |= {
            "Retry-After": str(decision.retry_after),
            "RateLimit-Reason": "jira-burst-based",
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
        }
    return headers


class FakeJiraState:
    """Built once per app from its config."""

    def __init__(
        self, config: FakeJiraConfig, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        started = time.perf_counter()
        self.dataset: Dataset = generate(
            seed=config.seed,
            issues=config.issues,
            projects=config.projects,
            days=config.days,
            anchor=anchor(config.now),
        )
        self.generation_seconds = time.perf_counter() - started
        self.clock = SiteClock(self.dataset.anchor_ms, monotonic)
        self.engine = SearchEngine(self.dataset)
        self.core = EmulatorCore(
            config,
            metric_prefix="fake_jira",
            limit_headers=limit_headers,
            items_name="issues_served",
            clock=monotonic,
        )
        self.core.describe = self.describe
        # One renderer per (base URL, API version): a handful at most.
        self.renderers: dict[tuple[str, int], Renderer] = {}

    def describe(self) -> dict[str, Any]:
        """The data set's identity for `GET /_admin/config`."""
        return {
            "issues": len(self.dataset.issues),
            "projects": [key for key, _, _ in self.dataset.projects],
            "anchor_ms": self.dataset.anchor_ms,
        }

    def now_ms(self) -> int:
        """The site's clock: the data set's anchor plus the time since start."""
        return self.clock.now_ms()

    @staticmethod
    def user_for(account: Account) -> User:
        """The Jira user of a configured account."""
        email = account.login
        local = email.split("@", 1)[0]
        name = " ".join(part.capitalize() for part in local.replace("_", ".").split(".") if part)
        return User(account_id_for(email), name or email, email)
