"""`RetryLog`: the one log line of a tenacity wait, with the error's type but never its text."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs
from tenacity import AsyncRetrying, RetryCallState, Retrying, stop_after_attempt, wait_fixed

from observability import RetryLog


async def test_each_wait_is_logged_with_attempt_error_type_and_wait() -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("postgresql://root:s3cret@db/rita refused")
        return "ok"

    retrying = AsyncRetrying(
        wait=wait_fixed(0.01),
        stop=stop_after_attempt(5),
        before_sleep=RetryLog("store_unreachable", dependency="postgres"),
    )
    with capture_logs() as logs:
        assert await retrying(flaky) == "ok"
    assert logs == [
        {
            "event": "store_unreachable",
            "log_level": "warning",
            "attempt": attempt,
            "error_type": "ConnectionError",
            "retry_in": 0.01,
            "dependency": "postgres",
        }
        for attempt in (1, 2)
    ]
    assert "s3cret" not in repr(logs)


@pytest.mark.parametrize("extra", [{}, {"pending_tenants": 3}])
def test_a_caller_adds_its_own_fields_at_log_time(extra: dict[str, object]) -> None:
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    with capture_logs() as logs:
        RetryLog("waiting")(state, **extra)
    assert logs[0].items() >= {"event": "waiting", "attempt": 1, **extra}.items()
