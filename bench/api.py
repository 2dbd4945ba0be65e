"""connections-api throughput and latency beside a bare FastAPI endpoint, measured in one run.

The API (`connections_api.main:main`, uvicorn, 1 worker) and the baseline (a bare FastAPI app
returning the same JSON from memory, same uvicorn settings) each run in a subprocess on loopback.
A light keep-alive HTTP/1.1 client in this process loads them: `GET /api/data-sources` (6 rows of
a seeded tenant, JWT checked; the page kept by the API between changes, see
`connections_api/list_fast_path.py`) and `POST .../verify` (settings stored, event published,
signed webhook to an instant receiver in this process). A second API process with
`LIST_CACHE_SECONDS=0` reads PostgreSQL on every list request: `api_list_throughput_uncached`. The
list is measured in rounds taking turns (baseline, API, uncached API, baseline, ...), so other work
on the machine weighs on all alike. Scratch database and Redis prefix are created here and
removed at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis

import store
from contracts import Principal, Role
from rita_auth import issue_token
from rita_testing import free_port
from rita_testing.connections_api import start_receiver

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("DATABASE_URL", "postgresql+asyncpg://root@127.0.0.1:5432/rita")
REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = "bench-jwt-secret-0123456789abcdef0123456789"  # noqa: S105 - bench-only
WEBHOOK_SECRET = "whsec_YmVuY2gtd2ViaG9vay1zZWNyZXQtMDEyMzQ1Njc4OQ=="  # noqa: S105 - bench-only
CONCURRENCY = 16
ROUNDS = 3  # baseline and API alternate, so a change in the machine's load hits both alike
DURATION = 2.0  # measured seconds per round and server
WARMUP = 1.0
VERIFY_REQUESTS = 400
VERIFY_CONCURRENCY = 4


def _dsn(database: str) -> str:
    base = PG.replace("postgresql+asyncpg://", "postgresql://")
    return base.rsplit("/", 1)[0] + f"/{database}"


class Conn:
    """One keep-alive HTTP/1.1 connection (no client library overhead in the measurement)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()


async def _throughput(port: int, path: str, headers: dict[str, str]) -> tuple[int, float]:
    """Requests and seconds measured over DURATION with CONCURRENCY connections, after a warm-up."""
    counted = 0
    measuring = False
    stop = False

    async def worker() -> None:
        nonlocal counted
        conn = Conn(port)
        try:
            while not stop:
                status = await conn.request("GET", path, headers, b"")
                if status != 200:
                    raise RuntimeError(f"GET {path} answered {status}")
                if measuring:
                    counted += 1
        finally:
            await conn.close()

    tasks = [asyncio.create_task(worker()) for _ in range(CONCURRENCY)]
    await asyncio.sleep(WARMUP)
    measuring, start = True, time.perf_counter()
    await asyncio.sleep(DURATION)
    measuring, elapsed = False, time.perf_counter() - start
    stop = True
    await asyncio.gather(*tasks)
    return counted, elapsed


async def _alternating(sides: dict[str, tuple[int, dict[str, str]]], path: str) -> dict[str, float]:
    """Requests per second of each side (port, headers), over ROUNDS rounds taking turns."""
    totals = {side: [0, 0.0] for side in sides}
    for _ in range(ROUNDS):
        for side, (port, headers) in sides.items():
            count, seconds = await _throughput(port, path, headers)
            totals[side][0] += count
            totals[side][1] += seconds
    return {side: count / seconds for side, (count, seconds) in totals.items()}


async def _latencies(
    port: int, path: str, headers: dict[str, str], body: bytes, *, n: int, concurrency: int
) -> list[float]:
    """Latency (ms) of `n` POSTs spread over `concurrency` connections."""
    latencies: list[float] = []
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        conn = Conn(port)
        try:
            while remaining > 0:
                remaining -= 1
                start = time.perf_counter()
                status = await conn.request("POST", path, headers, body)
                latencies.append((time.perf_counter() - start) * 1000)
                if status not in {200, 202}:
                    raise RuntimeError(f"POST {path} answered {status}")
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def _wait_http(port: int, path: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {process.returncode}")
        conn = Conn(port)
        try:
            if await conn.request("GET", path, {}, b"") == 200:
                return
        except OSError:
            await asyncio.sleep(0.1)
        finally:
            await conn.close()
    raise TimeoutError(f"server on {port} did not become ready")


def _spawn(code: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()


async def _with_database(name: str, body: Callable[[str], Awaitable[None]]) -> None:
    admin = await asyncpg.connect(_dsn("postgres"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = PG.rsplit("/", 1)[0] + f"/{name}"
    try:
        await asyncio.to_thread(store.migrate, url)
        await body(url)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


API = "from connections_api.main import main; main()"
# The bare endpoint returns the same document (parsed once, kept in memory); FastAPI serialises it.
BASELINE = """
import json, sys, uvicorn
from typing import Any
from fastapi import FastAPI
body = json.load(open(sys.argv[1], "rb"))
app = FastAPI()
@app.get("/api/data-sources")
async def listing() -> Any:
    return body
@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_config=None, access_log=False)
"""


async def _bench(url: str) -> None:
    prefix = f"bench:api:{uuid.uuid4().hex[:8]}:"
    receiver, stop_receiver = await start_receiver()
    api_port, base_port, uncached_port = free_port(), free_port(), free_port()
    env = {
        "DATABASE_URL": url,
        "REDIS_URL": REDIS,
        "HOST": "127.0.0.1",
        "AUTH_JWT_SECRET": SECRET,
        "AUTH_DEV_MODE": "false",
        "SYNC_WEBHOOK_URL": receiver.url,
        "SYNC_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "EVENTS_KEY_PREFIX": prefix,
        "LOG_LEVEL": "WARNING",
    }
    api = _spawn(API, {**env, "PORT": str(api_port)})
    # The same API reading the database on every list request (its kept pages switched off).
    uncached = _spawn(API, {**env, "PORT": str(uncached_port), "LIST_CACHE_SECONDS": "0"})
    baseline: subprocess.Popen[bytes] | None = None
    body_file = Path(tempfile.gettempdir()) / f"bench-api-{uuid.uuid4().hex[:8]}.json"
    try:
        await _wait_http(api_port, "/healthz", api)
        await _wait_http(uncached_port, "/healthz", uncached)
        tenant = uuid.uuid4()
        principal = Principal(sub="bench", email="b@example.com", tenant_id=tenant, role=Role.ADMIN)
        auth = {"Authorization": f"Bearer {issue_token(SECRET, principal, ttl_seconds=3600)}"}
        conn = Conn(api_port)
        assert await conn.request("POST", "/api/data-sources/seed", auth, b"") == 200
        await conn.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", api_port)
        writer.write(
            f"GET /api/data-sources HTTP/1.1\r\nHost: x\r\nAuthorization: {auth['Authorization']}"
            "\r\nConnection: close\r\n\r\n".encode()
        )
        listing = (await reader.read()).split(b"\r\n\r\n", 1)[1]
        writer.close()
        rows = json.loads(listing)["data"]
        jira = next(r["id"] for r in rows if r["type"] == "jira_itsm")
        body_file.write_bytes(listing)
        baseline = subprocess.Popen(  # noqa: ASYNC220 - starting a server does not block
            [sys.executable, "-c", BASELINE, str(body_file), str(base_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await _wait_http(base_port, "/healthz", baseline)

        rps = await _alternating(
            {"base": (base_port, {}), "api": (api_port, auth), "uncached": (uncached_port, auth)},
            "/api/data-sources",
        )
        base_rps, api_rps, uncached_rps = rps["base"], rps["api"], rps["uncached"]
        verify_body = json.dumps(
            {
                # A public IP literal: the SSRF check runs without a DNS lookup (no resolver noise).
                "settings": {"base_url": "https://93.184.215.14", "email": "a@example.com"},
                "credentials": {"email": "a@example.com", "api_token": "bench-token"},
            }
        ).encode()
        headers = {**auth, "Content-Type": "application/json"}
        path = f"/api/data-sources/{jira}/verify"
        await _latencies(
            api_port, path, headers, verify_body, n=40, concurrency=VERIFY_CONCURRENCY
        )  # warm-up
        verify = await _latencies(
            api_port, path, headers, verify_body, n=VERIFY_REQUESTS, concurrency=VERIFY_CONCURRENCY
        )
        assert len(receiver.requests) >= VERIFY_REQUESTS
        print(
            f"list: api {api_rps:.0f} req/s (uncached {uncached_rps:.0f}) "
            f"vs bare FastAPI {base_rps:.0f} req/s "
            f"({CONCURRENCY} connections, {ROUNDS} alternating rounds of {DURATION:.0f} s); "
            f"verify: {len(verify)} requests, "
            f"{VERIFY_CONCURRENCY} connections, p50 {sorted(verify)[len(verify) // 2]:.1f} ms"
        )
        print(
            f"RESULT api_list_throughput value={api_rps:.1f} baseline={base_rps:.1f} "
            f"ratio={api_rps / base_rps:.3f} unit=req/s"
        )
        print(
            f"RESULT api_list_throughput_uncached value={uncached_rps:.1f} "
            f"baseline={base_rps:.1f} ratio={uncached_rps / base_rps:.3f} unit=req/s"
        )
        print(f"RESULT api_verify_p99 value={_p99(verify):.2f} baseline=- ratio=- unit=ms")
    finally:
        _stop(api)
        _stop(uncached)
        if baseline is not None:
            _stop(baseline)
        body_file.unlink(missing_ok=True)
        await stop_receiver()
        client = aioredis.from_url(REDIS)
        async for key in client.scan_iter(match=f"{prefix}*"):
            await client.delete(key)
        await client.aclose()


def main() -> None:
    """Run the benchmark against a scratch database."""
    asyncio.run(_with_database(f"bench_api_{uuid.uuid4().hex[:10]}", _bench))


if __name__ == "__main__":
    main()
