"""A webhook receiver on loopback that records every delivery and can hold requests unanswered."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from rita_testing.connections_api import serve


@dataclass
class Delivery:
    webhook_id: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes


@dataclass
class Receiver:
    """`hold` set: requests wait (unanswered) until it is cleared; all are recorded on arrival."""

    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    hold: bool = False

    async def handle(self, request: Request) -> JSONResponse:
        raw = await request.body()
        self.deliveries.append(
            Delivery(
                request.headers.get("webhook-id", ""),
                dict(request.headers),
                json.loads(raw) if raw else {},
                raw,
            )
        )
        self.arrived.set()
        if self.hold:
            await self.release.wait()
        return JSONResponse({"success": True, "message": "accepted"})

    def actions(self) -> list[str]:
        return [str(d.body.get("action")) for d in self.deliveries]


@contextlib.asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/webhook", receiver.handle, methods=["POST"])])
    server, task, receiver.url = await serve(app)
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.should_exit = True
        await task
