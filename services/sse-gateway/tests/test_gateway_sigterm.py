"""SIGTERM: every client gets `reconnect`, new connections are refused, the process exits."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import uuid

import httpx

from sse_gateway.testing import SECRET, SseClient, api_token, eventually


async def test_sigterm_sends_reconnect_to_every_client_and_exits(
    redis_url: str, redis_prefix: str
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = os.environ | {
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "REDIS_URL": redis_url,
        "EVENTS_KEY_PREFIX": redis_prefix,
        "AUTH_JWT_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sse_gateway", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(500):
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.02)
        tenant = uuid.uuid4()
        auth = {"Authorization": f"Bearer {api_token(tenant)}"}
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
        # uvicorn re-raises the signal once drained, as process managers expect.
        assert await asyncio.wait_for(proc.wait(), 20) in {0, -signal.SIGTERM}
        for client in clients:
            await client.close()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
