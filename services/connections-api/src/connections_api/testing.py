"""Test helpers (used by this package's tests and bench): a webhook receiver, an API driver."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg
import httpx
import uvicorn
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connections_api.config import Settings
from connections_api.state import AppState
from contracts import Principal, PublishedEvent, Role, tenant_events_key
from events import decode_stream_entry
from rita_auth import issue_token
from rita_testing import asyncpg_dsn

JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789"  # noqa: S105 - test-only
WEBHOOK_SECRET = "whsec_dGVzdC13ZWJob29rLXNlY3JldC0wMTIzNDU2Nzg5"  # noqa: S105 - test-only
WEBHOOK_AUTH = "Bearer test-sync-auth"


@dataclass
class Received:
    """One request the receiver got."""

    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver on loopback that records requests and can be told to fail."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    fail_next: int = 0
    fail_status: int = 503

    def for_connection(self, connection_id: uuid.UUID | str) -> list[Received]:
        import json

        return [
            r for r in self.requests if json.loads(r.body)["connection_id"] == str(connection_id)
        ]


async def serve(
    app: Any, *, lifespan: Literal["on", "off"] = "off"
) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, log_config=None, access_log=False, lifespan=lifespan, log_level="warning"
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise TimeoutError("receiver did not start")
        await asyncio.sleep(0.01)
    return server, task, f"http://127.0.0.1:{port}/webhook"


def free_port_url() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/webhook"


@dataclass
class Api:
    """The running app, a client for it, and helpers."""

    client: httpx.AsyncClient
    state: AppState
    settings: Settings
    database_url: str
    redis: Redis

    def headers(
        self, tenant: uuid.UUID, role: Role = Role.ADMIN, sub: str = "user-1"
    ) -> dict[str, str]:
        principal = Principal(sub=sub, email=f"{sub}@example.com", tenant_id=tenant, role=role)
        return {"Authorization": f"Bearer {issue_token(JWT_SECRET, principal, ttl_seconds=600)}"}

    async def seed(self, tenant: uuid.UUID) -> dict[str, dict[str, Any]]:
        """Seed the tenant; its connections by type."""
        response = await self.client.post("/api/data-sources/seed", headers=self.headers(tenant))
        if response.status_code != 200:
            raise AssertionError(response.text)
        return {row["type"]: row for row in response.json()["data"]}

    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(asyncpg_dsn(self.database_url))
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    async def enable(self, connection_id: str) -> None:
        """What a successful verification result does (the consumer's job, not the API's)."""
        await self.sql(
            "UPDATE data_source_connections SET enabled = true, status = 'idle',"
            ' settings = \'{"base_url": "https://acme.example.invalid",'
            ' "email": "a@example.com"}\'::jsonb WHERE id = $1',
            uuid.UUID(connection_id),
        )

    async def stream(self, tenant: uuid.UUID) -> list[PublishedEvent]:
        """The tenant's events in the Redis stream, oldest first."""
        key = tenant_events_key(tenant, self.settings.events_key_prefix)
        entries = await self.redis.xrange(key) or []
        return [decode_stream_entry(i, f) for i, f in entries]


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 15) -> None:
    """Poll `check` until it is true or the deadline passes."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def start_receiver() -> tuple[Receiver, Callable[[], Awaitable[None]]]:
    """Start a receiver; returns it and its stop function."""
    state = Receiver()

    async def webhook(request: Request) -> Response:
        state.requests.append(Received(dict(request.headers), await request.body()))
        if state.fail_next > 0:
            state.fail_next -= 1
            return JSONResponse({"error": "unavailable"}, status_code=state.fail_status)
        return JSONResponse({"accepted": True}, status_code=202)

    routes = [Route("/webhook", webhook, methods=["POST"])]
    server, task, state.url = await serve(Starlette(routes=routes))

    async def stop() -> None:
        server.should_exit = True
        await task

    return state, stop
