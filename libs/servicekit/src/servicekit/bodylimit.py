"""Refuse a request body over a byte limit with 413 problem+json, before it is read whole.

Two checks, because a client need not announce its size:
- a declared `Content-Length` over the limit is refused at the door: the app (routing, auth,
  parsing) never runs and not one body byte is read;
- otherwise the body is counted as the app pulls it (chunked bodies, lying clients): the read
  that crosses the limit raises `BodyTooLarge`, so at most `limit` bytes plus one chunk (the
  server's read size, ~64 KiB) are ever in memory.

`BodyTooLarge` is Starlette's `HTTPException(413)`: FastAPI re-raises HTTP exceptions from its
body reader unchanged, so the app's problem handler renders it; one that escapes the app is
rendered here. Starlette's own `RequestBodyLimitMiddleware` answers `text/plain` and checks
`Content-Length` only when the app reads, hence this one.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.problems import PROBLEM_JSON, http_problem_body


class BodyTooLarge(HTTPException):
    """The request body is over the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body may hold at most {limit} bytes")
        self.limit = limit


class BodySizeLimitMiddleware:
    """Pure ASGI middleware: `app` sees at most `max_body_bytes` bytes of any request body."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, send, limit)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:  # too late for a 413: the server closes the connection
                raise
            await _refuse(scope, send, limit)


def _content_length(scope: Scope) -> int | None:
    raw = Headers(scope=scope).get("content-length")
    if raw is None or not raw.strip().isdigit():
        return None  # absent or malformed: the counting below still applies
    return int(raw)


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    exc = BodyTooLarge(limit)
    body = json.dumps(http_problem_body(413, exc.detail, scope.get("path"))).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                # The unread rest of the body makes the connection unusable for another request.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
