"""The body-size limit: refused at the door by Content-Length, or counted while streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from servicekit import PROBLEM_JSON, BodySizeLimitMiddleware, install_problem_handlers

LIMIT = 1000
CHUNK = 256


class Pulled:
    """A streamed request body that counts the chunks the server pulled."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield b"x" * CHUNK


def starlette_app(calls: list[int]) -> Starlette:
    async def echo(request: Request) -> JSONResponse:
        calls.append(1)
        body = await request.body()
        return JSONResponse({"size": len(body)})

    app = Starlette(routes=[Route("/echo", echo, methods=["POST"])])
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=LIMIT)
    return app


def client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")  # type: ignore[arg-type]


def assert_413(response: httpx.Response) -> None:
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["code"] == "payload_too_large"
    assert body["status"] == 413
    assert body["detail"] == f"The request body may hold at most {LIMIT} bytes"


async def test_declared_length_over_the_limit_is_refused_before_the_app_runs() -> None:
    calls: list[int] = []
    body = Pulled(100)
    async with client(starlette_app(calls)) as c:
        response = await c.post("/echo", content=body, headers={"Content-Length": str(CHUNK * 100)})
    assert_413(response)
    assert calls == []
    assert body.pulled == 0


async def test_streamed_body_is_cut_at_the_limit_without_reading_the_rest() -> None:
    calls: list[int] = []
    body = Pulled(10_000)  # 2.5 MB, no Content-Length
    async with client(starlette_app(calls)) as c:
        response = await c.post("/echo", content=body)
    assert_413(response)
    # The read that crosses 1000 bytes is the 4th chunk of 256; nothing after it is pulled.
    assert body.pulled == LIMIT // CHUNK + 1


async def test_body_at_the_limit_passes_through_whole() -> None:
    calls: list[int] = []
    async with client(starlette_app(calls)) as c:
        response = await c.post("/echo", content=b"y" * LIMIT)
    assert response.status_code == 200
    assert response.json() == {"size": LIMIT}


class Item(BaseModel):
    name: str


def fastapi_app() -> FastAPI:
    app = FastAPI()

    @app.post("/items")
    async def create(item: Item) -> Item:
        return item

    install_problem_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=LIMIT)
    return app


async def test_fastapi_json_body_streamed_over_the_limit_is_a_413_problem() -> None:
    body = Pulled(10_000)
    async with client(fastapi_app()) as c:
        response = await c.post(
            "/items", content=body, headers={"Content-Type": "application/json"}
        )
    assert_413(response)
    assert body.pulled == LIMIT // CHUNK + 1


async def test_fastapi_small_body_is_parsed() -> None:
    async with client(fastapi_app()) as c:
        response = await c.post("/items", json={"name": "a"})
    assert response.status_code == 200
    assert response.json() == {"name": "a"}
