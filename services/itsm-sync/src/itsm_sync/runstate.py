"""The life of a sync run: which status may follow which (terminal runs never change)."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class RunStatus(StrEnum):
    """Status of a run in itsm-sync's own table (Rita keeps its own copy)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE: Final = frozenset({RunStatus.PENDING, RunStatus.RUNNING})
TERMINAL: Final = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})

_NEXT: Final[dict[RunStatus, frozenset[RunStatus]]] = {
    RunStatus.PENDING: frozenset({RunStatus.RUNNING, RunStatus.FAILED, RunStatus.CANCELLED}),
    # running → running is a checkpoint (a page stored); it keeps the run alive.
    RunStatus.RUNNING: frozenset(
        {RunStatus.RUNNING, RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED}
    ),
    RunStatus.COMPLETED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.CANCELLED: frozenset(),
}


def can_move(current: RunStatus, target: RunStatus) -> bool:
    """Whether a run in `current` may move to `target`."""
    return target in _NEXT[current]


def sources_of(target: RunStatus) -> frozenset[RunStatus]:
    """Every status from which `target` may be reached (the SQL `WHERE status IN (...)`)."""
    return frozenset(status for status, nexts in _NEXT.items() if target in nexts)
