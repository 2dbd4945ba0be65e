"""SSE fan-out: 10,000 connections over 1,000 tenants on one gateway vs a naive design.

Figures (each run measures both designs on a Redis of its own, loopback only):
- connections held; gateway RSS per connection (KB); delivery latency p50/p99 (ms, publish time
  carried in the event) at ~2,000 deliveries/s; delivered / expected (each event counts once per
  open stream of its tenant; the tail of in-flight events is awaited, bounded);
- RSS growth after 10,000 connect/disconnect cycles, from a warmed-up steady state, in a fresh
  gateway process: RSS after a warm-up round of 2,000 cycles vs after 10,000 more, with the same
  1,000 streams held open at both measurements and the gateway's connection count settled first.
Baseline: an sse-starlette endpoint with one Redis subscription per connection, at the largest
C (of 1,000 / 2,500 / 5,000 / 10,000) that it sustains (every connection open, >= 99% delivered).
Run: `uv run python bench/sse_fanout.py [--connections N] [--seconds S]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import httptools
import redis.asyncio as aioredis
import uvloop

from contracts import EventName, Principal
from events import EventPublisher, OutgoingEvent
from rita_auth import EventsTokens
from rita_testing import free_port

SECRET = "bench-secret-for-the-sse-fanout-benchmark-0123456789"  # noqa: S105
PREFIX = "bench:events:"
TENANTS = 1000
DELIVERIES_PER_SECOND = 2000
NAIVE_LEVELS = (1000, 2500, 5000, 10_000)
# RSS growth: streams held open throughout, a warm-up round, then the measured cycles.
LIVE_DURING_CYCLES = 1000
WARMUP_CYCLES = 2000
CYCLES = 10_000


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class SseConn(asyncio.Protocol):
    """A minimal SSE client: status, and the latency of every event carrying `"t":`."""

    def __init__(self, run: Run, path: bytes, tenant: int) -> None:
        self.run = run
        self.path = path
        self.tenant = tenant
        self.status = 0
        self.buf = b""
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.ready = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(b"GET " + self.path + b" HTTP/1.1\r\nHost: bench\r\n\r\n")

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._done()

    def connection_lost(self, exc: Exception | None) -> None:
        self._done()

    def _done(self) -> None:
        if not self.ready.done():
            self.ready.set_result(None)

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self._done()

    def on_body(self, body: bytes) -> None:
        now = time.time()
        self.buf += body
        *blocks, self.buf = self.buf.split(b"\r\n\r\n")
        for block in blocks:
            at = block.find(b'"t":')
            if at >= 0:
                end = block.find(b",", at)
                self.run.latencies.append(now - float(block[at + 4 : end]))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


@dataclass
class Run:
    port: int
    tokens: list[str]
    latencies: list[float] = field(default_factory=list)
    conns: list[SseConn] = field(default_factory=list)

    async def open(self, count: int, concurrency: int = 200) -> int:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            tenant = i % TENANTS
            path = f"/events?access_token={self.tokens[tenant]}".encode()
            async with gate:
                try:
                    _, conn = await loop.create_connection(
                        lambda: SseConn(self, path, tenant), "127.0.0.1", self.port
                    )
                except OSError:
                    return
                self.conns.append(conn)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(conn.ready), 30)

        await asyncio.gather(*(one(i) for i in range(count)))
        return sum(1 for c in self.conns if c.status == 200)

    def held_per_tenant(self) -> Counter[int]:
        """Open streams per tenant: each event is delivered once to each of them."""
        return Counter(c.tenant for c in self.conns if c.status == 200)

    async def wait_for_tail(self, expected: int, idle: float = 2.0, cap: float = 30.0) -> float:
        """Wait (bounded) for in-flight deliveries: until all arrived or none for `idle` s."""
        start = last_change = time.monotonic()
        seen = len(self.latencies)
        while len(self.latencies) < expected:
            now = time.monotonic()
            if now - last_change > idle or now - start > cap:
                break
            await asyncio.sleep(0.05)
            if len(self.latencies) != seen:
                seen, last_change = len(self.latencies), time.monotonic()
        return time.monotonic() - start

    def close_all(self) -> None:
        for conn in self.conns:
            conn.close()
        self.conns = []


async def publish_steadily(redis_url: str, held: Counter[int], seconds: float) -> int:
    """Publish round-robin over tenants at ~DELIVERIES_PER_SECOND deliveries/s.

    Returns the deliveries expected: each event counts once per open stream of its tenant
    (connections are not spread evenly when C is not a multiple of the tenant count).
    """
    total = sum(held.values())
    rate = DELIVERIES_PER_SECOND * TENANTS / total  # events/s
    client = aioredis.from_url(redis_url)
    publisher = EventPublisher(client, prefix=PREFIX)
    tick, sent, expected, start = 0.01, 0, 0, time.monotonic()
    pad = "x" * 200
    while time.monotonic() - start < seconds:
        due = int((time.monotonic() - start) * rate) - sent
        if due > 0:
            tenants = [(sent + i) % TENANTS for i in range(due)]
            batch = [
                OutgoingEvent(
                    tenant_uuid(n), EventName.DATA_SOURCE_UPDATE, {"t": time.time(), "p": pad}
                )
                for n in tenants
            ]
            await publisher.publish_many(batch)
            sent += due
            expected += sum(held[n] for n in tenants)
        await asyncio.sleep(tick)
    await client.aclose()
    return expected


def tenant_uuid(n: int) -> uuid.UUID:
    return uuid.UUID(int=(n % TENANTS) + 1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


@dataclass
class Figures:
    held: int
    rss_per_conn_kb: float
    p50_ms: float
    p99_ms: float
    delivered_ratio: float
    tail_wait_s: float = 0.0


async def wait_http(port: int, path: str = "/healthz", within: float = 30) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n".encode())
            line = await reader.readline()
            writer.close()
            if b" 200 " in line:
                return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not become ready")


async def measure(
    proc: subprocess.Popen[bytes], port: int, redis_url: str, count: int, seconds: float
) -> tuple[Figures, Run]:
    signer = EventsTokens(SECRET)
    tokens = [
        signer.issue(Principal(sub=f"u{n}", tenant_id=tenant_uuid(n)), ttl_seconds=3600)
        for n in range(TENANTS)
    ]
    run = Run(port, tokens)
    await asyncio.sleep(0.5)
    rss_before = rss_kb(proc.pid)
    held = await run.open(count)
    # The load generator's own GC pauses must not be counted as delivery latency.
    gc.collect()
    gc.freeze()
    await asyncio.sleep(1.0)
    rss_held = rss_kb(proc.pid)
    expected = await publish_steadily(redis_url, run.held_per_tenant(), seconds) if held else 0
    tail = await run.wait_for_tail(expected)
    figures = Figures(
        held=held,
        rss_per_conn_kb=(rss_held - rss_before) / held if held else 0.0,
        p50_ms=percentile(run.latencies, 0.50),
        p99_ms=percentile(run.latencies, 0.99),
        delivered_ratio=len(run.latencies) / expected if expected else 0.0,
        tail_wait_s=tail,
    )
    return figures, run


def start_server(
    args: list[str], env: dict[str, str], *, quiet: bool = False
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, *args],
        env=os.environ | env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if quiet else None,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def cycles(port: int, tokens: list[str], total: int, batch: int = 500) -> None:
    run = Run(port, tokens)
    for _ in range(total // batch):
        await run.open(batch)
        run.close_all()
        await asyncio.sleep(0.05)


async def http_get(port: int, path: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n".encode())
    data = await reader.read()
    writer.close()
    return data.partition(b"\r\n\r\n")[2]


async def metric(port: int, name: str) -> float:
    for line in (await http_get(port, "/metrics")).decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


async def settled_rss(pid: int, port: int, live: int, within: float = 60) -> int:
    """RSS once the gateway holds exactly `live` connections (every close processed)."""
    deadline = time.monotonic() + within
    while json.loads(await http_get(port, "/readyz"))["connections"] != live:
        if time.monotonic() > deadline:
            raise RuntimeError("the gateway did not settle")
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)
    samples = []
    for _ in range(5):
        samples.append(rss_kb(pid))
        await asyncio.sleep(0.2)
    return sorted(samples)[2]


async def rss_growth(pid: int, port: int, tokens: list[str]) -> tuple[int, int, float]:
    """RSS after a warm-up round of cycles vs after 10,000 more, with LIVE streams held."""
    live = Run(port, tokens)
    held = await live.open(LIVE_DURING_CYCLES)
    await cycles(port, tokens, WARMUP_CYCLES)
    rss_a = await settled_rss(pid, port, held)
    await cycles(port, tokens, CYCLES)
    rss_b = await settled_rss(pid, port, held)
    live.close_all()
    return rss_a, rss_b, (rss_b - rss_a) / rss_a * 100


async def start_gateway(redis_url: str, count: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "REDIS_URL": redis_url,
        "EVENTS_KEY_PREFIX": PREFIX,
        "AUTH_JWT_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
        "GATEWAY_MAX_CONNECTIONS": str(count + 1000),
        "GATEWAY_SHUTDOWN_GRACE_SECONDS": "5",
    }
    proc = start_server(["-m", "sse_gateway"], env)
    await wait_http(port, "/readyz")
    return proc, port


async def bench_gateway(redis_url: str, count: int, seconds: float) -> tuple[Figures, float]:
    proc, port = await start_gateway(redis_url, count)
    try:
        figures, run = await measure(proc, port, redis_url, count, seconds)
        run.close_all()
        evictions = await metric(port, "sse_gateway_slow_client_evictions_total")
    finally:
        stop(proc)
    # A fresh process: after the main run its allocator holds ~100 MB of freed memory, which
    # would absorb (hide) a leak of that size. Here the peak is 1,500 streams.
    proc, port = await start_gateway(redis_url, count)
    try:
        rss_a, rss_b, growth = await rss_growth(proc.pid, port, run.tokens)
    finally:
        stop(proc)
    print(
        f"gateway: {figures} evictions={evictions:.0f} "
        f"fresh_process_with_{LIVE_DURING_CYCLES}_live: after_{WARMUP_CYCLES}_warmup_cycles="
        f"{rss_a}KB after_{CYCLES}_more_cycles={rss_b}KB"
    )
    return figures, growth


async def bench_naive(redis_url: str, seconds: float, limit: int) -> Figures | None:
    best: Figures | None = None
    for level in (n for n in NAIVE_LEVELS if n <= limit):
        port = free_port()
        env = {"REDIS_URL": redis_url, "AUTH_JWT_SECRET": SECRET}
        # Quiet: past its limit the naive server logs a traceback per failed connection.
        proc = start_server([__file__, "--naive-server", str(port)], env, quiet=True)
        try:
            await wait_http(port)
            figures, run = await measure(proc, port, redis_url, level, seconds)
            run.close_all()
        finally:
            stop(proc)
        print(f"naive C={level}: {figures}")
        if figures.held < level or figures.delivered_ratio < 0.99:
            break
        best = figures
    return best


def naive_server(port: int) -> None:
    """The baseline: sse-starlette with one Redis subscription per connection."""
    import uvicorn
    from sse_starlette import EventSourceResponse
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    redis = aioredis.from_url(os.environ["REDIS_URL"], max_connections=100_000)
    verifier = EventsTokens(os.environ["AUTH_JWT_SECRET"])

    async def events(request: Request) -> Response:
        principal = verifier.verify(request.query_params["access_token"])

        async def stream() -> object:
            pubsub = redis.pubsub()
            await pubsub.subscribe(f"{PREFIX}{principal.tenant_id}")
            try:
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        yield {"data": message["data"].decode()}
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]

        return EventSourceResponse(stream())  # type: ignore[arg-type]

    async def health(_request: Request) -> Response:
        return Response("ok")

    app = Starlette(routes=[Route("/events", events), Route("/healthz", health)])
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        backlog=8192,
    )


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            "/usr/bin/redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxclients",
            "19000",
        ],
        stdout=subprocess.DEVNULL,
    )
    return proc, f"redis://127.0.0.1:{port}/0"


async def main_async(count: int, seconds: float) -> None:
    redis_proc, redis_url = start_redis()
    try:
        await asyncio.sleep(0.5)
        gateway, growth = await bench_gateway(redis_url, count, seconds)
        naive = await bench_naive(redis_url, seconds, count)
    finally:
        redis_proc.terminate()
        redis_proc.wait()

    def line(name: str, value: float, base: float | None, unit: str) -> None:
        if base is None:
            print(f"RESULT {name} value={value:.2f} baseline=- ratio=- unit={unit}")
        else:
            ratio = value / base if base else 0.0
            print(
                f"RESULT {name} value={value:.2f} baseline={base:.2f} ratio={ratio:.3f} unit={unit}"
            )

    line("sse_connections", gateway.held, naive.held if naive else 0, "connections")
    line(
        "sse_rss_per_connection",
        gateway.rss_per_conn_kb,
        naive.rss_per_conn_kb if naive else None,
        "KB",
    )
    line("sse_p99_latency", gateway.p99_ms, naive.p99_ms if naive else None, "ms")
    line("sse_rss_growth", growth, None, "%")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--naive-server", type=int, default=0)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.naive_server:
        naive_server(args.naive_server)
        return
    uvloop.install()
    asyncio.run(main_async(args.connections, args.seconds))


if __name__ == "__main__":
    main()
