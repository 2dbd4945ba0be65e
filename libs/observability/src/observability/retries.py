"""One log line per wait of a tenacity retry loop, the same fields in every service."""

from __future__ import annotations

import logging

import structlog
from tenacity import RetryCallState

log = structlog.get_logger()


class RetryLog:
    """A tenacity `before_sleep`: logs `event` with the attempt, the error's type and the wait.

    Only the error's type, never its text: a driver's message may carry a URL or a credential,
    and every log line is treated as public. Callers with a figure of their own to add (a queue
    length, a dependency) call it with keyword fields.
    """

    def __init__(self, event: str, *, level: int = logging.WARNING, **fields: object) -> None:
        self._event = event
        self._level = level
        self._fields = fields

    def __call__(self, state: RetryCallState, **extra: object) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.log(
            self._level,
            self._event,
            attempt=state.attempt_number,
            error_type=type(error).__name__,
            retry_in=round(state.upcoming_sleep, 2),
            **self._fields,
            **extra,
        )
