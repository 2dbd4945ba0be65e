"""Request counters (`GET /_admin/stats`) and Prometheus metrics, one set per app."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client import Counter as PromCounter


@dataclass
class Stats:
    """Counters for tests and benchmarks. `items_served` counts records in answered pages."""

    requests: int = 0
    rate_limited: int = 0
    faults: int = 0
    unauthorized: int = 0
    forbidden: int = 0
    items_served: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_endpoint: Counter[str] = field(default_factory=Counter)
    by_account: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self, items_name: str = "items_served") -> dict[str, Any]:
        """A JSON-ready copy; `items_name` names the served-records counter in the dialect."""
        with self._lock:
            return {
                "requests": self.requests,
                "rate_limited": self.rate_limited,
                "faults": self.faults,
                "unauthorized": self.unauthorized,
                "forbidden": self.forbidden,
                items_name: self.items_served,
                "by_status": dict(self.by_status),
                "by_endpoint": dict(self.by_endpoint),
                "by_account": dict(self.by_account),
            }

    def record(self, endpoint: str, status: int) -> None:
        """Count one finished API request."""
        with self._lock:
            self.requests += 1
            self.by_status[str(status)] += 1
            self.by_endpoint[endpoint] += 1
            self.rate_limited += status == 429
            self.unauthorized += status == 401
            self.forbidden += status == 403


class Metrics:
    """Prometheus metrics named `<prefix>_*`, in a registry of the app's own.

    Several apps can share a process (tests run many emulators), so nothing is registered in
    the global registry.
    """

    def __init__(self, prefix: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = PromCounter(
            f"{prefix}_requests",
            "API requests answered",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.rate_limited = PromCounter(
            f"{prefix}_rate_limited", "Requests answered 429", registry=self.registry
        )
        self.faults = PromCounter(
            f"{prefix}_faults_injected",
            "Requests answered with an injected 5xx",
            registry=self.registry,
        )
        self.latency = Histogram(
            f"{prefix}_request_seconds",
            "Time to answer an API request",
            ["endpoint"],
            registry=self.registry,
        )
