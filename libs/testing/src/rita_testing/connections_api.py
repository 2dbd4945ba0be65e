"""connections-api under test: the API driver, a loopback webhook receiver, per-process secrets.

Used by services/connections-api/tests and bench/api.py; it lives here, not in the shipped
package, so nothing under any src/ imports pytest helpers. The secrets are random per test
process (nothing hard-coded to leak into an image).
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import socket
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
from rita_testing.helpers import eventually, free_port
from rita_testing.servers import asyncpg_dsn

__all__ = [
    "ENVELOPE_KEYS",
    "JWT_SECRET",
    "WEBHOOK_AUTH",
    "WEBHOOK_SECRET",
    "Api",
    "Received",
    "Receiver",
    "eventually",
    "free_port_url",
    "serve",
    "start_receiver",
]

JWT_SECRET = secrets.token_urlsafe(32)
WEBHOOK_SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
WEBHOOK_AUTH = f"Bearer {secrets.token_urlsafe(16)}"
# The keys every sync webhook body carries, in either dialect; each action adds its own.
# Written out here (not read from the contract) so that a test notices when they change.
ENVELOPE_KEYS = frozenset(
    {
        "source",
        "action",
        "tenant_id",
        "user_id",
        "user_email",
        "connection_id",
        "connection_type",
        "timestamp",
    }
)


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
        """The requests about one connection, in arrival order."""
        return [
            r for r in self.requests if json.loads(r.body)["connection_id"] == str(connection_id)
        ]


async def serve(
    app: Any, *, lifespan: Literal["on", "off"] = "off"
) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    """Serve `app` with uvicorn on a free loopback port: the server, its task, `.../webhook`."""
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
    await eventually(lambda: server.started, 10, what="uvicorn start")
    return server, task, f"http://127.0.0.1:{port}/webhook"


def free_port_url() -> str:
    """A loopback URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}/webhook"


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
        """An `Authorization` header for a caller of `tenant` with `role`."""
        principal = Principal(sub=sub, email=f"{sub}@example.com", tenant_id=tenant, role=role)
        return {"Authorization": f"Bearer {issue_token(JWT_SECRET, principal, ttl_seconds=600)}"}

    async def act(
        self,
        tenant: uuid.UUID,
        connection_id: str,
        action: str,
        body: dict[str, Any] | None = None,
        *,
        role: Role = Role.ADMIN,
        sub: str = "user-1",
    ) -> httpx.Response:
        """`POST /api/data-sources/{id}/{action}` (`verify`, `sync-tickets`,
        `cancel-ingestion`) with `body` (default `{}`) as `sub` of `tenant`; any answer."""
        return await self.client.post(
            f"/api/data-sources/{connection_id}/{action}",
            json={} if body is None else body,
            headers=self.headers(tenant, role, sub),
        )

    async def verify(
        self,
        tenant: uuid.UUID,
        connection_id: str,
        body: dict[str, Any],
        *,
        role: Role = Role.ADMIN,
        sub: str = "user-1",
    ) -> httpx.Response:
        """`act(..., "verify", body)`."""
        return await self.act(tenant, connection_id, "verify", body, role=role, sub=sub)

    async def seed(self, tenant: uuid.UUID) -> dict[str, dict[str, Any]]:
        """Seed the tenant; its connections by type."""
        response = await self.client.post("/api/data-sources/seed", headers=self.headers(tenant))
        if response.status_code != 200:
            raise AssertionError(response.text)
        return {row["type"]: row for row in response.json()["data"]}

    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """Run `query` on the test database (behind the API's back)."""
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
