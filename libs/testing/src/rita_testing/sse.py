"""A raw HTTP/1.1 Server-Sent Events client for tests, and a server under test to open it on.

The client is one socket and httptools' parser: it records the status, headers, every event
(`event`, `id`, `data`), comments (`: ping`) and the `retry:` hint exactly as sent, so tests can
assert on the bytes a browser's `EventSource` would see. `rcvbuf` shrinks the socket's receive
buffer to make a client that stops reading fill up quickly (slow-client tests).
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httptools

from rita_testing.helpers import eventually

AppT = TypeVar("AppT")


@dataclass
class SseEvent:
    event: str | None
    id: str | None
    data: str


@dataclass
class SseClient:
    """One SSE connection that records what it reads (start it with `start()`)."""

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
        """Connect to 127.0.0.1:`port` and send `GET path` (the response is read after `start`)."""
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
        """Read the response in the background."""
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
        """The events that carry a row (not `resync` or `reconnect`)."""
        return [e for e in self.events if e.event not in {"resync", "reconnect"}]

    def ids(self) -> list[str]:
        """The ids of the data events, in the order received."""
        return [e.id for e in self.data_events() if e.id is not None]

    def named(self, name: str) -> list[SseEvent]:
        return [e for e in self.events if e.event == name]

    async def wait_headers(self, within: float = 10.0) -> SseClient:
        await eventually(lambda: self.headers_done or self.eof, within, what="response headers")
        return self

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.writer.close()
        await asyncio.gather(self.writer.wait_closed(), return_exceptions=True)


@dataclass
class SseServer(Generic[AppT]):
    """A server under test on a loopback port: `connect` opens an SSE client as a tenant."""

    app: AppT
    port: int
    bearer: Callable[[uuid.UUID], str]  # an API token for a tenant
    stopper: Callable[[], Awaitable[None]] | None = None  # stops the server (once)
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
        path: str = "/events",
    ) -> SseClient:
        """Open `path` with a Bearer token for `tenant` (or `token`); wait for the headers."""
        all_headers = dict(headers or {})
        if token is None and tenant is not None:
            token = self.bearer(tenant)
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        target = path + (f"?{query}" if query else "")
        client = await SseClient.open(self.port, target, all_headers, rcvbuf=rcvbuf)
        self.clients.append(client)
        if wait:
            client.start()
            await client.wait_headers()
        return client

    async def stop(self) -> None:
        """Close the clients, then stop the server (idempotent)."""
        for client in self.clients:
            await client.close()
        self.clients.clear()
        stopper, self.stopper = self.stopper, None
        if stopper is not None:
            await stopper()
