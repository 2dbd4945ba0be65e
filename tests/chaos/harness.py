"""What the chaos tests drive the system with: an API client, SSE listeners (and the stream ids
they must read), a connection marked verified, the whole system.

The status workload (seeded rows, messages, exact end state) is `rita_testing.workload`.

Everything talks to real processes on loopback (`rita_testing.stack`) and to the real servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis

from contracts import tenant_events_key
from rita_testing import asyncpg_dsn
from rita_testing.stack import Proc, Stack


class Api:
    """One API process as one tenant's user (`role` admin or member) sees it."""

    def __init__(self, base_url: str, tenant_id: uuid.UUID, role: str = "admin") -> None:
        self.base_url, self.tenant_id, self.role = base_url, tenant_id, role
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)
        self.answers: list[httpx.Response] = []  # every answer, for leak scans

    async def __aenter__(self) -> Api:
        token = await self.http.post(
            "/api/dev/token", json={"tenant_id": str(self.tenant_id), "role": self.role}
        )
        token.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.http.aclose()

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.http.request(method, path, **kwargs)
        self.answers.append(response)
        return response

    async def connection(self, kind: str) -> dict[str, Any]:
        """The tenant's row of `kind` (the list read ensures the default rows exist)."""
        listing = await self.call("GET", "/api/data-sources")
        listing.raise_for_status()
        return next(row for row in listing.json()["data"] if row["type"] == kind)

    async def get(self, connection_id: str) -> dict[str, Any]:
        response = await self.call("GET", f"/api/data-sources/{connection_id}")
        response.raise_for_status()
        return dict(response.json())

    async def verify_jira(self, connection_id: str, base_url: str, email: str, token: str) -> None:
        """Verify the Jira connection with these credentials (202 expected)."""
        response = await self.call(
            "POST",
            f"/api/data-sources/{connection_id}/verify",
            json={
                "settings": {"base_url": base_url, "email": email},
                "credentials": {"email": email, "api_token": token},
            },
        )
        assert response.status_code == 202, response.text

    async def verified(self, connection_id: str) -> bool:
        """Whether the connection is idle and enabled (its verification succeeded)."""
        current = await self.get(connection_id)
        return current["status"] == "idle" and current["enabled"] is True

    async def events_token(self) -> str:
        response = await self.call("POST", "/api/events/token")
        response.raise_for_status()
        return str(response.json()["access_token"])


@dataclass
class Frame:
    """One SSE frame as a browser's EventSource sees it."""

    id: str | None
    event: str
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class Listener:
    """A tenant's stream read like EventSource: reconnects with Last-Event-ID when it drops."""

    gateway_url: str
    token: str
    frames: list[Frame] = field(default_factory=list)
    connects: int = 0
    last_id: str | None = None
    _task: asyncio.Task[None] | None = None
    _open: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> Listener:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._open.wait(), 30)
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def data_frames(self) -> list[Frame]:
        return [f for f in self.frames if f.event not in {"reconnect", "resync"}]

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=None)) as http:
            while True:
                headers = {"Last-Event-ID": self.last_id} if self.last_id else {}
                with contextlib.suppress(httpx.HTTPError):
                    async with http.stream(
                        "GET",
                        f"{self.gateway_url}/events",
                        params={"access_token": self.token},
                        headers=headers,
                    ) as response:
                        if response.status_code == 200:
                            self.connects += 1
                            self._open.set()
                            await self._read(response)
                await asyncio.sleep(0.1)  # EventSource's retry, short for tests

    async def _read(self, response: httpx.Response) -> None:
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line == "":
                if "data" in fields or "event" in fields:
                    frame = Frame(
                        fields.get("id"), fields.get("event", "message"), fields.get("data", "")
                    )
                    self.frames.append(frame)
                    if frame.id:
                        self.last_id = frame.id
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                fields[name] = (
                    f"{fields[name]}\n{value}" if name == "data" and name in fields else value
                )


def start_whole_system(
    stack: Stack, jira_accounts: str, **jira_env: str
) -> tuple[Proc, Proc, Proc]:
    """fake-jira, itsm-sync, the consumer, the gateway and the API, wired to each other.

    Answers (fake-jira, gateway, api); blocking (call it with `asyncio.to_thread`).
    """
    jira = stack.start("fake-jira", env={"FAKE_JIRA_ACCOUNTS": jira_accounts, **jira_env})
    allowed = {"JIRA_ALLOWED_PRIVATE_HOSTS": f"127.0.0.1:{jira.port}"}
    sync = stack.start("itsm-sync", env={**allowed, "ITSM_SYNC_PAGE_SIZE": "20"})
    stack.start("status-consumer")
    gateway = stack.start("sse-gateway")
    api = stack.start("connections-api", env={**allowed, "SYNC_WEBHOOK_URL": f"{sync.url}/webhook"})
    return jira, gateway, api


async def listeners_for(
    api_url: str, gateway_urls: list[str], tenants: list[uuid.UUID]
) -> dict[uuid.UUID, list[Listener]]:
    """For each tenant, one started listener per entry of `gateway_urls` (repeat a URL for
    several clients of one gateway), all on one events token fetched from the API."""
    out: dict[uuid.UUID, list[Listener]] = {}
    for tenant in tenants:
        async with Api(api_url, tenant) as api:
            token = await api.events_token()
        out[tenant] = [await Listener(url, token).start() for url in gateway_urls]
    return out


async def stream_ids(redis_url: str, prefix: str, tenant: uuid.UUID) -> list[str]:
    """The ids in a tenant's event stream, oldest first: what every listener must have read."""
    client = aioredis.from_url(redis_url, decode_responses=True)
    try:
        entries = await client.xrange(tenant_events_key(tenant, prefix))
    finally:
        await client.aclose()
    return [str(entry_id) for entry_id, _fields in entries or []]


async def enable(database_url: str, connection_id: str) -> None:
    """Mark a connection verified (as a successful verification would) without a sync service."""
    db = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await db.execute(
            "UPDATE data_source_connections SET enabled = true, status = 'idle', "
            'settings = \'{"base_url": "https://acme.atlassian.net", "email": "a@b.co"}\', '
            "latest_options = '{\"projects\": []}', last_verified_at = now(), "
            "last_verification_at = now() WHERE id = $1",
            uuid.UUID(connection_id),
        )
    finally:
        await db.close()


async def all_caught_up(listeners: list[Listener], expected: list[str]) -> None:
    """Until every listener has read up to the stream's last id, then each read it exactly."""

    async def caught_up() -> bool:
        return all(client.last_id == expected[-1] for client in listeners)

    await eventually_true(caught_up, within=30)
    for listener in listeners:
        assert [f.id for f in listener.data_frames()] == expected


async def eventually_true(check: Any, within: float = 60, every: float = 0.1) -> float:
    """Seconds until `await check()` is truthy; raises TimeoutError after `within`."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while True:
        if await check():
            return loop.time() - start
        if loop.time() - start > within:
            raise TimeoutError(f"not true within {within}s")
        await asyncio.sleep(every)


async def metric_value(base_url: str, name: str, labels: str = "") -> float:
    """One sample of a service's `/metrics` (0 when absent)."""
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"{base_url}/metrics")).text
    wanted = f"{name}{{{labels}}}" if labels else name
    total = 0.0
    for line in text.splitlines():
        if line.startswith(wanted + " ") or (not labels and line.startswith(name + "{")):
            total += float(line.rsplit(" ", 1)[1])
    return total
