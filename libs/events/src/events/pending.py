"""The tenants owed a `resync` because their committed events could not be published.

Bounded: past `limit` tenants it keeps only the fact that it overflowed, and the recovery then
resyncs every tenant that has a stream (see `EventPublisher`). In process: a restart forgets it
(the client's own reconnect and replay rules still apply).
"""

from __future__ import annotations

from collections.abc import Iterable


class PendingResyncs:
    """An ordered, bounded set of tenant ids plus an overflow generation."""

    __slots__ = ("_limit", "_tenants", "overflows")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._tenants: dict[str, None] = {}
        self.overflows = 0  # how many times it overflowed; 0 after every overflow was resynced

    def add(self, tenants: Iterable[str]) -> None:
        """Remember these tenants (or, at the bound, that some were not remembered)."""
        for tenant in tenants:
            if tenant in self._tenants:
                continue
            if len(self._tenants) >= self._limit:
                self.overflows += 1
                return
            self._tenants[tenant] = None

    def snapshot(self) -> tuple[list[str], int]:
        """The tenants owed a resync now, and the overflow count to clear once they got it."""
        return list(self._tenants), self.overflows

    def resolved(self, tenants: Iterable[str], overflows: int) -> None:
        """These tenants (and the overflows seen in the snapshot) got their resync."""
        for tenant in tenants:
            self._tenants.pop(tenant, None)
        if overflows and self.overflows == overflows:
            self.overflows = 0

    def __len__(self) -> int:
        return len(self._tenants)

    def __bool__(self) -> bool:
        return bool(self._tenants) or self.overflows > 0
