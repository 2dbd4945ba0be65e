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
from fake_servicenow.query import Path, Query, sort_key

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
        found = [record for record in self.dataset.tables[table] if query.matches(record)]
        if query.order:
            # Stable sorts from the least significant key; the sys_id breaks every tie.
            found.sort(key=lambda record: record["sys_id"])
            for path, descending in reversed(query.order):
                found.sort(key=self._sort_key(path), reverse=descending)
        self._cache[key] = found
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return found

    def _sort_key(self, path: Path) -> Callable[[Record], tuple[int, int | str]]:
        column = path.column
        return lambda record: sort_key(column, path.value(record, self.lookup))

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
