"""What every /rest request goes through: latency, Basic auth, burst limit, injected 5xx."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from fake_jira.config import Account
from fake_jira.state import FakeJiraState

EXTRA_HEADERS = "fake_jira.headers"
_NOT_AUTHENTICATED = "Client must be authenticated to access this resource."
_NO_PERMISSION = "You do not have permission to browse projects on this site."
_FAULT_MESSAGES = {
    500: "Internal server error.",
    502: "Bad gateway: the Jira site did not answer the proxy in time.",
    503: "Service unavailable: the Jira site is under heavy load, try again later.",
    504: "Gateway timeout.",
}


class JiraError(Exception):
    """An error answered with Jira's `{"errorMessages": [...], "errors": {}}` body."""

    def __init__(self, status: int, *messages: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, messages)
        self.status = status
        self.messages = list(messages)
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        """The HTTP answer."""
        body: dict[str, Any] = {"errorMessages": self.messages, "errors": {}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def state_of(request: Request) -> FakeJiraState:
    """The app's emulator state."""
    state: FakeJiraState = request.app.state.fake_jira
    return state


def _add_headers(request: Request, headers: dict[str, str]) -> None:
    # The ASGI middleware copies these onto whatever response the endpoint produces.
    request.scope.setdefault(EXTRA_HEADERS, {}).update(headers)


async def authenticated(request: Request) -> Account:
    """Authenticate and apply the per-account limits and faults; return the account."""
    state = state_of(request)
    delay = state.faults.delay_seconds()
    if delay:
        await asyncio.sleep(delay)
    account = state.authenticate(request.headers.get("authorization"))
    if account is None:
        raise JiraError(
            401,
            _NOT_AUTHENTICATED,
            headers={
                "WWW-Authenticate": 'Basic realm="protected-area"',
                "X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
            },
        )
    state.stats.by_account[account.email] += 1
    decision = state.buckets.take(account.email.lower())
    if decision.limit:
        headers = {
            "X-RateLimit-Limit": str(decision.limit),
            "X-RateLimit-Remaining": str(decision.remaining),
        }
        if decision.remaining < 0.2 * decision.limit:
            headers["X-RateLimit-NearLimit"] = "true"
        _add_headers(request, headers)
    if not decision.allowed:
        reset = datetime.now(UTC) + timedelta(seconds=decision.retry_after)
        state.metrics.rate_limited.inc()
        raise JiraError(
            429,
            "Rate limit exceeded.",
            headers={
                "Retry-After": str(decision.retry_after),
                "RateLimit-Reason": "jira-burst-based",
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
            },
        )
    failure = state.faults.failure()
    if failure is not None:
        state.stats.faults += 1
        state.metrics.faults.inc()
        headers = {"Retry-After": "1"} if failure == 503 else {}
        raise JiraError(failure, _FAULT_MESSAGES.get(failure, "Server error."), headers=headers)
    return account


async def can_browse(account: Annotated[Account, Depends(authenticated)]) -> Account:
    """Like `authenticated`, and also require the Browse projects permission."""
    if not account.can_browse:
        raise JiraError(403, _NO_PERMISSION)
    return account


Authenticated = Annotated[Account, Depends(authenticated)]
Browser = Annotated[Account, Depends(can_browse)]
