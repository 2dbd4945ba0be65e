"""Per-account burst limit (token bucket, injectable clock) and seeded fault injection."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Decision:
    """The limiter's answer for one request."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: int = 0  # whole seconds, as Retry-After carries them
    reset_after: float = 0.0  # seconds until the bucket is full again


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class TokenBuckets:
    """One bucket of `capacity` tokens per account, refilled at `rate` tokens per second.

    `clock` (seconds, monotonic) is injectable so tests can move time instead of sleeping.
    A refused request consumes nothing.
    """

    rate: float
    capacity: int
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _buckets: dict[str, _Bucket] = field(default_factory=dict, repr=False)

    def configure(self, rate: float, capacity: int) -> None:
        """Change the limit at run time (existing buckets are clipped to the new capacity)."""
        self.rate, self.capacity = rate, capacity
        for bucket in self._buckets.values():
            bucket.tokens = min(bucket.tokens, capacity)

    def reset(self) -> None:
        """Forget every bucket (all accounts start full again)."""
        self._buckets.clear()

    def take(self, account: str) -> Decision:
        """Spend one token for `account` if there is one."""
        if self.rate <= 0:
            return Decision(allowed=True, limit=0, remaining=0)
        now = self.clock()
        bucket = self._buckets.get(account)
        if bucket is None:
            bucket = self._buckets[account] = _Bucket(float(self.capacity), now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Decision(
                allowed=True,
                limit=self.capacity,
                remaining=int(bucket.tokens),
                reset_after=(self.capacity - bucket.tokens) / self.rate,
            )
        wait = (1 - bucket.tokens) / self.rate
        return Decision(
            allowed=False,
            limit=self.capacity,
            remaining=0,
            retry_after=max(1, math.ceil(wait)),
            reset_after=(self.capacity - bucket.tokens) / self.rate,
        )


@dataclass
class Faults:
    """Added latency and a share of 5xx answers, drawn from a seeded generator."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    statuses: tuple[int, ...] = (500, 502, 503)
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)  # noqa: S311 - reproducible faults

    def delay_seconds(self) -> float:
        """How long to hold this request before answering."""
        if self.latency_ms <= 0 and self.jitter_ms <= 0:
            return 0.0
        return (self.latency_ms + self._rng.uniform(0, self.jitter_ms)) / 1000

    def failure(self) -> int | None:
        """A 5xx status to answer with, or None to serve the request."""
        if self.error_rate > 0 and self._rng.random() < self.error_rate:
            return self._rng.choice(self.statuses)
        return None
