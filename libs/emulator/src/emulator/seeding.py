"""Deterministic data set helpers: seeded streams, stable ids, time windows, the site's clock."""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000


def seeded(seed: int, stream: str = "") -> random.Random:
    """A generator for one stream of a data set: the same seed and stream give the same values,
    and adding a stream (a new table) leaves the others unchanged."""
    if not stream:
        return random.Random(seed)  # noqa: S311 - reproducible test data, not security
    digest = hashlib.sha256(f"{seed}:{stream}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311


def stable_hex(*parts: object, length: int = 32) -> str:
    """A stable lowercase hex id derived from `parts` (e.g. a ServiceNow sys_id)."""
    text = "\x1f".join(str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def anchor(now: datetime | None) -> datetime:
    """The data set's "now", timezone aware (UTC); default: this moment, to the second."""
    moment = now or datetime.now(UTC).replace(microsecond=0)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def update_window(anchor_ms: int, days: float) -> tuple[int, int]:
    """(oldest, newest) epoch ms for "last updated" stamps over `days` before `anchor_ms`.

    Both ends keep a margin, so every record stays strictly inside "updated in the last
    `days` days" for the first hour of uptime and none is stamped in the future.
    """
    span_ms = int(days * DAY_MS)
    margin_ms = min(HOUR_MS, span_ms // 100)
    return anchor_ms - span_ms + margin_ms, anchor_ms - min(MINUTE_MS, margin_ms)


@dataclass
class SiteClock:
    """The emulated site's clock: the data set's anchor, running from start-up.

    `monotonic` is injectable so tests can move the site's time without sleeping.
    """

    anchor_ms: int
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False)
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.monotonic()

    def now_ms(self) -> int:
        """Milliseconds since the epoch, on the site's clock."""
        return self.anchor_ms + int((self.monotonic() - self.started) * 1000)
