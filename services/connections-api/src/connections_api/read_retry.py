"""A read whose database connection was dropped under it runs once more (issue 12 point 5).

`ensure_live` replaces a connection the server dropped while it sat in the pool. A connection
can also be dropped while a request uses it (a failover, `pg_terminate_backend`): the statement
fails, SQLAlchemy invalidates the pool, and the error handler marks the request
(`DROPPED_MARK`). A GET or HEAD changes nothing, so this middleware holds its answer back and,
when it carries the mark, runs the request once more on a fresh connection. A second failure is
an outage and leaves as the 503 it is. Writes are never repeated here.
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Set in `scope["state"]` by the database error handler when the connection was lost mid-request.
DROPPED_MARK: Final = "database_connection_dropped"
_READS: Final = frozenset({"GET", "HEAD"})


class RetryReadOnDroppedConnection:
    """Pure ASGI: buffers a read's (small JSON) answer; repeats the read once if it was dropped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _READS:
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        state = scope.setdefault("state", {})
        await self.app(scope, receive, hold)
        if state.pop(DROPPED_MARK, False):
            await self.app(scope, receive, send)
            return
        for message in held:
            await send(message)
