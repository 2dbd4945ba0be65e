"""The emulator's state: data set, site clock, churn, cached query results, and the core."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from emulator.core import EmulatorCore
from emulator.limits import Decision
from emulator.seeding import SiteClock, anchor, seeded, stable_hex
from fake_servicenow.config import FakeServiceNowSettings
from fake_servicenow.dataset import Dataset, Record, generate, snow_time
from fake_servicenow.query import Query, record_key

_CACHE_SIZE = 64
RATE_RULE = stable_hex("sys_rate_limit_rules", "fake-servicenow")


def limit_headers(decision: Decision) -> dict[str, str]:
    """ServiceNow's rate-limit headers, on every answer to a limited account."""
    return {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": str(int(time.time() + decision.reset_after + 0.999)),
        "X-RateLimit-Rule": RATE_RULE,
    }


class FakeServiceNowState:
    """Built once per app from its settings."""

    def __init__(
        self, settings: FakeServiceNowSettings, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        started = time.perf_counter()
        self.clock = SiteClock(int(anchor(settings.now).timestamp() * 1000), monotonic)
        self.dataset: Dataset = generate(
            seed=settings.seed,
            incidents=settings.incidents,
            groups=settings.groups,
            days=settings.days,
            anchor_ms=self.clock.anchor_ms,
            accounts=settings.account_list(),
        )
        self.generation_seconds = time.perf_counter() - started
        self.core = EmulatorCore(
            settings,
            metric_prefix="fake_servicenow",
            limit_headers=limit_headers,
            items_name="records_served",
            clock=monotonic,
        )
        self.core.describe = self.describe
        self.churn_per_page = settings.churn_per_page
        self.churned_total = 0
        self._churn_rng = seeded(settings.seed, "churn")
        # Bumped by every change to a record: cached results of older versions are stale.
        self.version = 0
        self._cache: OrderedDict[tuple[str, str, int], list[Record]] = OrderedDict()
        self._order_cache: OrderedDict[tuple[str, str, int], list[Record]] = OrderedDict()

    def describe(self) -> dict[str, Any]:
        """The data set's identity for `GET /_admin/config`."""
        tables = self.dataset.tables
        return {
            "incidents": len(tables["incident"]),
            "groups": [group["name"] for group in tables["sys_user_group"]],
            "anchor": snow_time(self.clock.anchor_ms),
            "churn_per_page": self.churn_per_page,
        }

    def lookup(self, table: str, sys_id: str) -> Record | None:
        """A record by sys_id."""
        return self.dataset.by_id.get(table, {}).get(sys_id)

    def results(self, table: str, query: Query) -> list[Record]:
        """Every matching record in query order (cached until a record changes)."""
        key = (table, query.canonical, self.version)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        matches = query.predicate
        found = [record for record in self._ordered(table, query) if matches(record)]
        self._remember(self._cache, key, found)
        return found

    def _ordered(self, table: str, query: Query) -> list[Record]:
        """The whole table in the query's order, cached: a keyset query changes its conditions
        on every page but keeps its order, so each page is one filtering pass."""
        if not query.order:
            return self.dataset.tables[table]
        key = (table, repr(query.order_key), self.version)
        ordered = self._order_cache.get(key)
        if ordered is None:
            # Stable sorts from the least significant key; the sys_id breaks every tie.
            ordered = sorted(self.dataset.tables[table], key=lambda record: record["sys_id"])
            for path, descending in reversed(query.order):
                ordered.sort(key=record_key(path, self.lookup), reverse=descending)
            self._remember(self._order_cache, key, ordered)
        return ordered

    @staticmethod
    def _remember(
        cache: OrderedDict[tuple[str, str, int], list[Record]],
        key: tuple[str, str, int],
        value: list[Record],
    ) -> None:
        cache[key] = value
        if len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)

    def churn(self, count: int) -> list[Record]:
        """Update `count` incidents now (seeded choice): sys_updated_on becomes the site's now."""
        incidents = self.dataset.tables["incident"]
        if not incidents or count <= 0:
            return []
        now = snow_time(self.clock.now_ms())
        chosen = self._churn_rng.sample(incidents, min(count, len(incidents)))
        for record in chosen:
            record["sys_updated_on"] = now
            record["sys_updated_by"] = "system"
            record["sys_mod_count"] = str(int(record["sys_mod_count"]) + 1)
        self.version += 1
        self.churned_total += len(chosen)
        return chosen
