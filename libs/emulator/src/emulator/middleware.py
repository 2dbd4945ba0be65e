"""Counts API requests by endpoint and status, times them, and adds the limiter's headers."""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.core import EXTRA_HEADERS, EmulatorCore


class CountingMiddleware:
    """For paths under `prefixes`: count, observe latency, and merge `EXTRA_HEADERS`.

    `endpoint(method, path)` names the endpoint for counters and metric labels; it must map
    unknown paths to a fixed name so labels stay bounded.
    """

    def __init__(
        self,
        app: ASGIApp,
        core: EmulatorCore,
        prefixes: tuple[str, ...],
        endpoint: Callable[[str, str], str],
    ) -> None:
        self.app = app
        self.core = core
        self.prefixes = prefixes
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        endpoint = self.endpoint(scope["method"], path)
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra: dict[str, str] = scope.get(EXTRA_HEADERS) or {}
                if extra:
                    headers = list(message.get("headers", []))
                    present = {name.lower() for name, _ in headers}
                    headers += [
                        (name.lower().encode(), value.encode())
                        for name, value in extra.items()
                        if name.lower().encode() not in present
                    ]
                    message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            core = self.core
            core.stats.record(endpoint, status)
            core.metrics.requests.labels(endpoint, str(status)).inc()
            core.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
