"""A gate that holds page responses until a test releases them.

Tests that must act while an import is mid-flight (cancel it, kill the importer, change a
limit) close the gate, optionally letting the next `after` pages through, wait until a page
request is held (`wait_held`, or `GET /_admin/gate/held`), act, then release or open the gate.
No sleeps and no timing: the importer is provably parked on a page request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


class Gate:
    """Open by default. Closed, it lets `allowance` requests through, then holds the rest."""

    def __init__(self) -> None:
        self.closed = False
        self.allowance = 0
        self.waiting = 0
        self.held_total = 0
        # Replaced on every change: waiters re-check their condition when it fires. An Event
        # (rather than a Condition) lets the state change from synchronous code.
        self._changed = asyncio.Event()

    def _signal(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _until(self, ready: Callable[[], bool]) -> None:
        while not ready():
            await self._changed.wait()

    async def passage(self) -> None:
        """Return at once when open or while allowance lasts; otherwise wait for a release."""
        if not self.closed:
            return
        if self.allowance > 0:
            self.allowance -= 1
            return
        self.waiting += 1
        self.held_total += 1
        self._signal()  # wakes `wait_held`
        try:
            await self._until(lambda: not self.closed or self.allowance > 0)
            if self.closed:
                self.allowance -= 1
        finally:
            self.waiting -= 1
            self._signal()

    def close(self, after: int = 0) -> None:
        """Hold page requests, after letting `after` more through."""
        self.closed, self.allowance = True, after
        self._signal()

    def release(self, count: int = 1) -> None:
        """Let `count` more requests through (held ones first) and stay closed."""
        self.allowance += count
        self._signal()

    def open(self) -> None:
        """Let everything through, held requests included."""
        self.closed, self.allowance = False, 0
        self._signal()

    async def wait_held(self, count: int = 1, within: float = 30.0) -> bool:
        """Wait until at least `count` requests are held at once; False after `within` s."""
        try:
            await asyncio.wait_for(self._until(lambda: self.waiting >= count), timeout=within)
        except TimeoutError:
            return False
        return True

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {
            "closed": self.closed,
            "allowance": self.allowance,
            "waiting": self.waiting,
            "held_total": self.held_total,
        }
