"""The one HTTP path every connector uses: bounded, Retry-After-aware retries, pacing, errors.

One shared `httpx.AsyncClient` serves every site and account: the site root and the auth are given
per call, so one connection pool is reused across runs and systems. Redirects are not followed (a
REST call never redirects; a login page that does is "not this system", and the credentials must
not follow it). A connector describes its system in a `Wording` and reads bodies; retries, 429s,
pacing and the mapping of status codes to `connectors.errors` live here only.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from contracts import UnsafeUrlError
from itsm_sync.connectors.errors import (
    AuthFailed,
    BadRequest,
    Forbidden,
    NetworkError,
    NotTheSystem,
    RateLimited,
    ServerError,
    UnsafeUrl,
    transport_error,
)
from itsm_sync.metrics import UPSTREAM_REQUESTS, UPSTREAM_RETRIES

log = structlog.get_logger(__name__)

_TRANSIENT_STATUSES: Final = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry (attempts are per call)."""

    max_retries: int = 5
    max_rate_limit_retries: int = 30
    max_backoff: float = 30.0
    base_backoff: float = 0.25


def _no_detail(_response: httpx.Response) -> str:
    return ""


@dataclass(frozen=True)
class Wording:
    """What one system is called and how its refusals read (no secret is ever interpolated)."""

    system: str  # "Jira": the metrics label and the start of sentences
    noun: str  # "Jira site": "Could not connect to the Jira site https://…"
    kind: str  # "a Jira Cloud site": "… does not look like a Jira Cloud site"
    auth_failed: str
    forbidden: str
    rate_limited: str
    # The system's own error text from a 400 body (e.g. Jira's `errorMessages`).
    error_detail: Callable[[httpx.Response], str] = field(default=_no_detail)


@dataclass(frozen=True)
class Answer:
    """A decoded 2xx JSON answer and its headers."""

    body: Any
    headers: httpx.Headers


def retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds, or None when absent or not a number."""
    raw = response.headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


class ApiCaller:
    """Calls to one site as one account, for one connector."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        site: str,
        auth: httpx.Auth,
        wording: Wording,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._http = http
        self._site = site.rstrip("/")
        self._auth = auth
        self._wording = wording
        self._policy = policy or RetryPolicy()
        self._not_before = 0.0

    @property
    def site(self) -> str:
        """The site root, without a trailing slash."""
        return self._site

    @property
    def wording(self) -> Wording:
        """How this system's failures read."""
        return self._wording

    def not_the_system(self, path: str, why: str = "but not like expected") -> NotTheSystem:
        """The error for an answer of the wrong shape."""
        return NotTheSystem(
            f"{self._site} does not look like {self._wording.kind} ({path} answered, {why})"
        )

    def _stop(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        limit = (
            self._policy.max_rate_limit_retries
            if isinstance(exc, RateLimited)
            else self._policy.max_retries
        )
        return state.attempt_number > limit

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        cap = self._policy.max_backoff
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            # The system says when; a little jitter keeps parallel runs from retrying in lockstep.
            return min(cap, exc.retry_after + random.uniform(0, 0.1))  # noqa: S311
        exponential = self._policy.base_backoff * 2 ** (state.attempt_number - 1)
        return random.uniform(0, min(cap, exponential))  # noqa: S311 - full jitter

    async def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        kind = "rate_limited" if isinstance(exc, RateLimited) else "transient"
        UPSTREAM_RETRIES.labels(system=self._wording.system, kind=kind).inc()
        log.info("upstream_retry", system=self._wording.system, kind=kind, error=str(exc))

    async def _pace(self) -> None:
        delay = self._not_before - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def _note_limits(self, response: httpx.Response) -> None:
        # Near the burst limit (Jira says so with `X-RateLimit-NearLimit`; otherwise no request
        # is left), spacing calls by 1/limit s avoids a 429, which costs a whole Retry-After
        # second, while keeping close to the allowed rate.
        headers = response.headers
        near = headers.get("X-RateLimit-NearLimit", "").lower() == "true"
        near = near or headers.get("X-RateLimit-Remaining", "").strip() == "0"
        try:
            limit = float(headers.get("X-RateLimit-Limit", "0"))
        except ValueError:
            limit = 0.0
        if near and limit > 0:
            self._not_before = time.monotonic() + 1.0 / limit

    async def _send(self, method: str, path: str, **kwargs: Any) -> Answer:
        await self._pace()
        system = self._wording.system
        try:
            response = await self._http.request(
                method, self._site + path, auth=self._auth, follow_redirects=False, **kwargs
            )
        except httpx.TransportError as exc:
            UPSTREAM_REQUESTS.labels(system=system, outcome="network_error").inc()
            # Connection-level failures are transient: retried, then `unreachable`/`timeout`.
            raise transport_error(exc, self._site, self._wording.noun) from None
        except UnsafeUrlError as exc:
            # Raised by the connect-time SSRF check (`netguard`), with the verify-time wording.
            UPSTREAM_REQUESTS.labels(system=system, outcome="refused").inc()
            raise UnsafeUrl(f"The {self._wording.noun} URL may not be called: {exc}") from None
        UPSTREAM_REQUESTS.labels(system=system, outcome=str(response.status_code)).inc()
        self._note_limits(response)
        return Answer(self._decode(response, path), response.headers)

    def _decode(self, response: httpx.Response, path: str) -> Any:
        status, words = response.status_code, self._wording
        if status == 429:
            raise RateLimited(words.rate_limited, retry_after(response))
        if status in _TRANSIENT_STATUSES:
            raise ServerError(f"The {words.noun} {self._site} answered {status}")
        if status == 401:
            raise AuthFailed(words.auth_failed)
        if status == 403:
            raise Forbidden(words.forbidden)
        if status == 400:
            detail = words.error_detail(response) or "bad request"
            raise BadRequest(f"{words.system} refused the request: {detail}")
        content_type = response.headers.get("content-type", "no type")
        if status >= 300 or "json" not in content_type:
            raise self.not_the_system(path, f"{status} {content_type}")
        try:
            return response.json()
        except ValueError:
            raise self.not_the_system(path, "with invalid JSON") from None

    async def call(self, method: str, path: str, **kwargs: Any) -> Answer:
        """One call with retries for 429 (after `Retry-After`), 5xx and network errors."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((RateLimited, ServerError, NetworkError)),
            stop=self._stop,
            wait=self._wait,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._send(method, path, **kwargs)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover
