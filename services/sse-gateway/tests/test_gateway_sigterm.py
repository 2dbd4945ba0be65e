"""SIGTERM: every client gets `reconnect`, new connections are refused, the process exits."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from collections.abc import Callable

import httpx

from rita_testing import eventually, free_port
from rita_testing.sse import SseClient


async def _ready(port: int, proc: asyncio.subprocess.Process) -> bool:
    if proc.returncode is not None:
        raise AssertionError(f"the gateway exited with {proc.returncode} before it was ready")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        try:
            return (await http.get("/readyz")).status_code == 200
        except httpx.TransportError:
            return False


async def _new_connection_outcome(port: int, auth: dict[str, str]) -> str:
    """What a client connecting now gets: `refused` (socket), a status with its code, or `200`."""
    try:
        client = (await SseClient.open(port, "/events", auth)).start()
    except ConnectionRefusedError:
        return "refused"
    try:
        await client.wait_headers()
        if client.status == 200:
            return "200"
        await eventually(lambda: client.finished or client.eof)
        if client.eof and not client.body:
            return "refused"
        return f"{client.status} {json.loads(bytes(client.body))['code']}"
    finally:
        await client.close()


async def test_sigterm_sends_reconnect_to_every_client_refuses_new_ones_and_exits(
    redis_url: str, redis_prefix: str, jwt_secret: str, api_token: Callable[..., str]
) -> None:
    port = free_port()
    env = os.environ | {
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "REDIS_URL": redis_url,
        "EVENTS_KEY_PREFIX": redis_prefix,
        "AUTH_JWT_SECRET": jwt_secret,
        "LOG_LEVEL": "WARNING",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sse_gateway", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    try:
        await eventually(lambda: _ready(port, proc), within=20, what="gateway ready")
        auth = {"Authorization": f"Bearer {api_token(uuid.uuid4())}"}
        clients = [(await SseClient.open(port, "/events", auth)).start() for _ in range(3)]
        for client in clients:
            await client.wait_headers()
            assert client.status == 200
        await eventually(lambda: all(c.retry is not None for c in clients))

        proc.send_signal(signal.SIGTERM)
        for client in clients:
            await eventually(lambda c=client: c.finished or c.eof)  # type: ignore[misc]
            [reconnect] = client.named("reconnect")
            assert json.loads(reconnect.data) == {"reason": "shutdown"}
        # From the drain on, a new client is turned away: 503 while uvicorn still accepts,
        # then the listening socket is closed. It never gets a stream.
        outcomes: list[str] = []

        async def turned_away() -> bool:
            outcomes.append(await _new_connection_outcome(port, auth))
            return outcomes[-1] == "refused"

        await eventually(turned_away, within=20, what="listening socket closed")
        assert set(outcomes) <= {"503 shutting_down", "refused"}, outcomes
        # uvicorn re-raises the signal once drained, as process managers expect.
        assert await asyncio.wait_for(proc.wait(), 20) in {0, -signal.SIGTERM}
        for client in clients:
            await client.close()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
