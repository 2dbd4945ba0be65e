"""Jira failures as readable messages with the codes Rita understands; never a secret."""

from __future__ import annotations

import socket
import ssl

import httpx

from contracts import ErrorCode


class JiraError(Exception):
    """A Jira call failed; `str()` is a readable message, `code` the `error_detail` code."""

    code: ErrorCode | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class JiraAuthError(JiraError):
    """401: wrong email or API token."""

    code = ErrorCode.AUTH_FAILED


class JiraPermissionError(JiraError):
    """403: the account may not browse what we need."""

    code = ErrorCode.FORBIDDEN


class JiraUnavailable(JiraError):
    """DNS, TLS, connection, timeout, or 5xx that outlived the retries."""

    code = ErrorCode.UNREACHABLE


class NotJiraSite(JiraError):
    """The site answers, but not like Jira Cloud's REST API."""

    code = ErrorCode.UNREACHABLE


class JiraBadRequest(JiraError):
    """400: Jira refused the request (for example the JQL)."""


class JiraUnsafeUrl(JiraError):
    """The site's host resolved to an address Rita's servers may not call (not retried)."""


class JiraServerError(JiraUnavailable):
    """A transient 5xx answer (retried)."""


class JiraNetworkError(JiraUnavailable):
    """DNS, TLS, connection or timeout failure (retried a bounded number of times)."""


class JiraRateLimited(JiraUnavailable):
    """429: retried after `Retry-After`; raised only when the retries run out."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def transport_error(exc: httpx.TransportError, site: str) -> JiraNetworkError:
    """Map an httpx transport failure to a readable `unreachable` error."""
    chain = _chain(exc)
    if isinstance(exc, httpx.TimeoutException):
        return JiraNetworkError(f"The Jira site {site} did not answer in time")
    if any(isinstance(item, socket.gaierror) for item in chain) or "Name or service" in str(exc):
        return JiraNetworkError(f"The Jira site's host name could not be resolved ({site})")
    if any(isinstance(item, ssl.SSLError) for item in chain):
        return JiraNetworkError(f"The TLS handshake with the Jira site {site} failed")
    return JiraNetworkError(f"Could not connect to the Jira site {site}")


def jira_error_messages(response: httpx.Response) -> str:
    """Jira's own `errorMessages`/`errors`, joined, or an empty string."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [str(item) for item in body.get("errorMessages") or [] if item]
    errors = body.get("errors")
    if isinstance(errors, dict):
        parts.extend(f"{key}: {value}" for key, value in errors.items())
    return "; ".join(parts)[:500]
