"""What every /rest request goes through (the shared emulator admission: latency, Basic auth,
burst limit, injected 5xx), and Jira's error body for everything refused."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response

from emulator.accounts import Account
from emulator.core import Refusal, core_of
from fake_jira.config import NO_BROWSE
from fake_jira.state import FakeJiraState

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


async def on_refusal(_request: Request, refusal: Refusal) -> Response:
    """Auth, rate-limit and injected failures in Jira's words (429 headers come with the
    limiter's headers, added by the counting middleware)."""
    if refusal.reason == "unauthorized":
        return JiraError(
            401,
            _NOT_AUTHENTICATED,
            headers={
                "WWW-Authenticate": 'Basic realm="protected-area"',
                "X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
            },
        ).response()
    if refusal.reason == "rate_limited":
        return JiraError(429, "Rate limit exceeded.").response()
    message = _FAULT_MESSAGES.get(refusal.status, "Server error.")
    return JiraError(refusal.status, message, headers=refusal.headers).response()


def state_of(request: Request) -> FakeJiraState:
    """The app's emulator state."""
    state: FakeJiraState = request.app.state.fake_jira
    return state


async def authenticated(request: Request) -> Account:
    """Authenticate and apply the per-account limits and faults; return the account."""
    return await core_of(request).admit(request)


async def can_browse(account: Annotated[Account, Depends(authenticated)]) -> Account:
    """Like `authenticated`, and also require the Browse projects permission."""
    if account.has(NO_BROWSE):
        raise JiraError(403, _NO_PERMISSION)
    return account


Authenticated = Annotated[Account, Depends(authenticated)]
Browser = Annotated[Account, Depends(can_browse)]
