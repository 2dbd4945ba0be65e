"""Failures of any ITSM system as readable messages with the shared codes; never a secret.

Every connector raises these (the shared HTTP layer maps status codes and transport failures to
them), so the run machinery and the verification handler need to know no system by name.
"""

from __future__ import annotations

import socket
import ssl

import httpx

from contracts import ErrorCode


class ConnectorError(Exception):
    """A call to an ITSM system failed; `message` is for people, `code` for the console."""

    code: ErrorCode | None = ErrorCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuthFailed(ConnectorError):
    """401: wrong user name, email, password or token."""

    code = ErrorCode.AUTH_FAILED


class Forbidden(ConnectorError):
    """403: the account may not read what the import needs."""

    code = ErrorCode.FORBIDDEN


class NotTheSystem(ConnectorError):
    """The site answers, but not like the system it should be (HTML, JSON of the wrong shape)."""

    code = ErrorCode.NOT_FOUND


class BadRequest(ConnectorError):
    """400: the system refused the request (for example the query)."""

    code = ErrorCode.INTERNAL


class CursorExpired(ConnectorError):
    """A stored checkpoint is no longer accepted; the import reads again from the start."""


class UnsafeUrl(ConnectorError):
    """The site's host resolves to an address Rita's servers may not call (not retried)."""

    code = ErrorCode.UNREACHABLE


class Unavailable(ConnectorError):
    """DNS, TLS, connection, or 5xx that outlived the retries."""

    code = ErrorCode.UNREACHABLE


class ServerError(Unavailable):
    """A transient 5xx answer (retried)."""


class NetworkError(Unavailable):
    """DNS, TLS or connection failure (retried a bounded number of times)."""


class TimedOut(NetworkError):
    """The system did not answer within the read timeout (retried, then `timeout`)."""

    code = ErrorCode.TIMEOUT


class RateLimited(Unavailable):
    """429: retried after `Retry-After`; raised only when the retries run out."""

    code = ErrorCode.RATE_LIMITED

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


def transport_error(exc: httpx.TransportError, site: str, noun: str) -> NetworkError:
    """Map an httpx transport failure to a readable error; `noun` is e.g. "Jira site"."""
    chain = _chain(exc)
    if isinstance(exc, httpx.TimeoutException):
        return TimedOut(f"The {noun} {site} did not answer in time")
    if any(isinstance(item, socket.gaierror) for item in chain) or "Name or service" in str(exc):
        return NetworkError(f"The {noun}'s host name could not be resolved ({site})")
    if any(isinstance(item, ssl.SSLError) for item in chain):
        return NetworkError(f"The TLS handshake with the {noun} {site} failed")
    return NetworkError(f"Could not connect to the {noun} {site}")
