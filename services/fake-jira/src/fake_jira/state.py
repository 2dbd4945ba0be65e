"""The emulator's state: data set, accounts, limiter, faults, counters and metrics."""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client import Counter as PromCounter

from fake_jira.config import Account, FakeJiraConfig
from fake_jira.dataset import Dataset, User, account_id_for, generate
from fake_jira.limits import Faults, TokenBuckets
from fake_jira.render import Renderer
from fake_jira.search import SearchEngine


@dataclass
class Stats:
    """Request counters for tests and benchmarks (`GET /_admin/stats`)."""

    requests: int = 0
    rate_limited: int = 0
    faults: int = 0
    unauthorized: int = 0
    forbidden: int = 0
    issues_served: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_endpoint: Counter[str] = field(default_factory=Counter)
    by_account: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        with self._lock:
            return {
                "requests": self.requests,
                "rate_limited": self.rate_limited,
                "faults": self.faults,
                "unauthorized": self.unauthorized,
                "forbidden": self.forbidden,
                "issues_served": self.issues_served,
                "by_status": dict(self.by_status),
                "by_endpoint": dict(self.by_endpoint),
                "by_account": dict(self.by_account),
            }

    def record(self, endpoint: str, status: int) -> None:
        """Count one finished /rest request."""
        with self._lock:
            self.requests += 1
            self.by_status[str(status)] += 1
            self.by_endpoint[endpoint] += 1
            self.rate_limited += status == 429
            self.unauthorized += status == 401
            self.forbidden += status == 403


class Metrics:
    """Prometheus metrics in a registry of this app's own (several apps can share a process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = PromCounter(
            "fake_jira_requests",
            "REST requests answered",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.rate_limited = PromCounter(
            "fake_jira_rate_limited", "Requests answered 429", registry=self.registry
        )
        self.faults = PromCounter(
            "fake_jira_faults_injected",
            "Requests answered with an injected 5xx",
            registry=self.registry,
        )
        self.latency = Histogram(
            "fake_jira_request_seconds",
            "Time to answer a REST request",
            ["endpoint"],
            registry=self.registry,
        )


class FakeJiraState:
    """Built once per app from its config."""

    def __init__(self, config: FakeJiraConfig) -> None:
        self.config = config
        started = time.perf_counter()
        self.dataset: Dataset = generate(
            seed=config.seed,
            issues=config.issues,
            projects=config.projects,
            days=config.days,
            anchor=config.anchor(),
        )
        self.generation_seconds = time.perf_counter() - started
        self.started = time.monotonic()
        self.engine = SearchEngine(self.dataset)
        self.accounts: dict[str, Account] = {a.email.lower(): a for a in config.account_list()}
        self.buckets = TokenBuckets(rate=config.rate_limit, capacity=config.bucket_size())
        self.faults = Faults(
            latency_ms=config.latency_ms,
            jitter_ms=config.latency_jitter_ms,
            error_rate=config.error_rate,
            statuses=config.error_status_list(),
            seed=config.seed,
        )
        self.stats = Stats()
        self.metrics = Metrics()
        self.renderers: dict[str, Renderer] = {}

    def authenticate(self, header: str | None) -> Account | None:
        """The account behind a Basic `Authorization` header, or None."""
        if not header or header[:6].lower() != "basic ":
            return None
        try:
            email, _, token = (
                base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            return None
        account = self.accounts.get(email.lower())
        if account is None or not hmac.compare_digest(account.token.encode(), token.encode()):
            return None
        return account

    @staticmethod
    def user_for(account: Account) -> User:
        """The Jira user of a configured account."""
        local = account.email.split("@", 1)[0]
        name = " ".join(part.capitalize() for part in local.replace("_", ".").split(".") if part)
        return User(account_id_for(account.email), name or account.email, account.email)

    def reset(self) -> None:
        """Zero the counters and refill every bucket."""
        self.stats = Stats()
        self.buckets.reset()
