"""Test support (used by this service's tests and usable by e2e): a raw SSE client, a gateway
on a real uvicorn server in the current loop, tokens signed with a test secret."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httptools

from contracts import Principal, Role
from rita_auth import EventsTokens, issue_token
from sse_gateway.app import Gateway
from sse_gateway.config import Settings
from sse_gateway.main import GatewayServer, build_server

SECRET = "test-secret-for-the-sse-gateway-0123456789"  # noqa: S105 - tests only


def api_token(tenant: uuid.UUID, *, ttl: int = 300, audience: str | None = None) -> str:
    principal = Principal(sub=f"user-{tenant.hex[:6]}", tenant_id=tenant, role=Role.ADMIN)
    return issue_token(SECRET, principal, ttl_seconds=ttl, audience=audience)


def events_token(tenant: uuid.UUID, *, ttl: int = 120, secret: str = SECRET) -> str:
    principal = Principal(sub=f"user-{tenant.hex[:6]}", tenant_id=tenant, role=Role.ADMIN)
    return EventsTokens(secret).issue(principal, ttl_seconds=ttl)


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    """Poll `check` until true or fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.02)


@dataclass
class SseEvent:
    event: str | None
    id: str | None
    data: str


@dataclass
class SseClient:
    """A raw HTTP/1.1 SSE client (one socket, httptools parser) that records what it reads."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    events: list[SseEvent] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    retry: int | None = None
    headers_done: bool = False
    finished: bool = False
    eof: bool = False
    _text: str = ""
    _task: asyncio.Task[None] | None = None
    _parser: Any = None

    @classmethod
    async def open(
        cls, port: int, path: str, headers: dict[str, str] | None = None, *, rcvbuf: int = 0
    ) -> SseClient:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        limit = 4096 if rcvbuf else 2**16
        reader, writer = await asyncio.open_connection(sock=sock, limit=limit)
        client = cls(reader, writer)
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        return client

    def start(self) -> SseClient:
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        while not self.finished:
            chunk = await self.reader.read(65536)
            if not chunk:
                self.eof = True
                return
            self._parser.feed_data(chunk)

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode().lower()] = value.decode()

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        self.headers_done = True

    def on_status(self, _status: bytes) -> None:
        pass

    def on_body(self, data: bytes) -> None:
        self.body.extend(data)
        self._text += data.decode().replace("\r\n", "\n")
        while "\n\n" in self._text:
            block, self._text = self._text.split("\n\n", 1)
            self._parse_block(block)

    def on_message_complete(self) -> None:
        self.finished = True

    def _parse_block(self, block: str) -> None:
        fields: dict[str, list[str]] = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value.removeprefix(" "))
        if "retry" in fields:
            self.retry = int(fields["retry"][0])
        if "data" in fields:
            event = fields.get("event", [None])[0]
            sid = fields.get("id", [None])[0]
            self.events.append(SseEvent(event, sid, "\n".join(fields["data"])))

    def data_events(self) -> list[SseEvent]:
        return [e for e in self.events if e.event not in {"resync", "reconnect"}]

    def ids(self) -> list[str]:
        return [e.id for e in self.data_events() if e.id is not None]

    def named(self, name: str) -> list[SseEvent]:
        return [e for e in self.events if e.event == name]

    async def wait_headers(self, within: float = 10.0) -> SseClient:
        await eventually(lambda: self.headers_done or self.eof, within)
        return self

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.writer.close()
        await asyncio.gather(self.writer.wait_closed(), return_exceptions=True)


@dataclass
class RunningGateway:
    server: GatewayServer
    gateway: Gateway
    port: int
    task: asyncio.Task[None]
    clients: list[SseClient] = field(default_factory=list)

    async def connect(
        self,
        tenant: uuid.UUID | None = None,
        *,
        token: str | None = None,
        query: str = "",
        headers: dict[str, str] | None = None,
        rcvbuf: int = 0,
        wait: bool = True,
    ) -> SseClient:
        all_headers = dict(headers or {})
        if token is None and tenant is not None:
            token = api_token(tenant)
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        path = "/events" + (f"?{query}" if query else "")
        client = await SseClient.open(self.port, path, all_headers, rcvbuf=rcvbuf)
        self.clients.append(client)
        if wait:
            client.start()
            await client.wait_headers()
        return client

    async def stop(self) -> None:
        for client in self.clients:
            await client.close()
        self.server.should_exit = True
        await asyncio.wait_for(self.task, 20)


async def run_gateway(settings: Settings) -> RunningGateway:
    """Serve `settings` on a free 127.0.0.1 port in this loop; returns once Redis is subscribed."""
    server = build_server(settings, host="127.0.0.1", port=0)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await eventually(lambda: server.started or task.done())
    gateway = server.gateway
    await eventually(lambda: gateway.hub.connected)
    return RunningGateway(server, gateway, port, task)
