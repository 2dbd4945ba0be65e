"""One retry for a read whose connection was dropped under it; never for a write."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connections_api.read_retry import DROPPED_MARK, RetryReadOnDroppedConnection


def app_dropping_first(times: int) -> tuple[Starlette, list[str]]:
    """Answers 503 marked as a dropped connection `times` times, then 200."""
    calls: list[str] = []

    async def endpoint(request: Request) -> JSONResponse:
        calls.append(request.method)
        if len(calls) <= times:
            setattr(request.state, DROPPED_MARK, True)
            return JSONResponse({"code": "database_unavailable"}, status_code=503)
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/x", endpoint, methods=["GET", "POST"])])
    app.add_middleware(RetryReadOnDroppedConnection)
    return app, calls


async def call(app: Starlette, method: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(method, "/x")


async def test_a_read_dropped_once_is_answered_by_its_retry() -> None:
    app, calls = app_dropping_first(1)
    response = await call(app, "GET")
    assert (response.status_code, response.json()) == (200, {"ok": True})
    assert calls == ["GET", "GET"]


async def test_a_read_dropped_twice_is_the_outage_it_is() -> None:
    app, calls = app_dropping_first(2)
    response = await call(app, "GET")
    assert response.status_code == 503
    assert calls == ["GET", "GET"]


async def test_a_write_is_never_repeated() -> None:
    app, calls = app_dropping_first(1)
    response = await call(app, "POST")
    assert response.status_code == 503
    assert calls == ["POST"]
