"""The Starlette app: `/events`, health, readiness and metrics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis
import structlog
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from events import EventsRedis
from observability import metrics_response
from rita_auth import EventsTokens, InvalidToken
from servicekit import problem, set_service_state
from sse_gateway import metrics
from sse_gateway.auth import authenticate
from sse_gateway.config import Settings
from sse_gateway.frames import StreamId, parse_stream_id, retry_hint
from sse_gateway.gcpolicy import run_gc_policy
from sse_gateway.hub import Hub
from sse_gateway.replay import REDIS_DOWN, catch_up, current_tail
from sse_gateway.stream import first_chunk, serve

log = structlog.get_logger(__name__)


def _redis_clients(settings: Settings) -> tuple[EventsRedis, EventsRedis]:
    """A client for commands (replay reads) and one for the subscription(s)."""
    # Commands retry a broken connection (Redis restarted) before giving up.
    retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=4)
    retry_on = [RedisConnectionError, RedisTimeoutError]
    if settings.redis_cluster:
        # Any node's URL: the client discovers the others and routes each key to its shard.
        commands = RedisCluster.from_url(
            settings.redis_url, socket_connect_timeout=2, retry=retry, retry_on_error=retry_on
        )
        return commands, RedisCluster.from_url(settings.redis_url, socket_keepalive=True)
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=64,
        timeout=5,
        socket_connect_timeout=2,
        retry=retry,
        retry_on_error=retry_on,
    )
    # The subscription has its own client: pings spot a silent network failure.
    pubsub = aioredis.from_url(settings.redis_url, health_check_interval=15, socket_keepalive=True)
    return aioredis.Redis(connection_pool=pool), pubsub


class Gateway:
    """Wires settings, Redis, the verifier and the hub into request handlers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.verifier = settings.jwt_verifier()
        self.events_tokens = EventsTokens(settings.events_token_key)
        self.redis, self.pubsub_redis = _redis_clients(settings)
        self.hub = Hub(
            self.pubsub_redis,
            prefix=settings.events_key_prefix,
            queue_size=settings.gateway_queue_size,
            heartbeat_seconds=settings.gateway_heartbeat_seconds,
            lifetime_seconds=settings.gateway_max_lifetime_seconds,
            lifetime_jitter=settings.gateway_lifetime_jitter,
            send_timeout_seconds=settings.gateway_send_timeout_seconds,
        )
        self._head = retry_hint(settings.gateway_retry_ms)

    def _unavailable(self, reason: str, detail: str) -> Response:
        metrics.REJECTED.labels(reason).inc()
        retry_after = str(max(1, self.settings.gateway_retry_ms // 1000))
        return problem(
            503, reason, "Service unavailable", detail, headers={"Retry-After": retry_after}
        )

    def _capacity_refusal(self) -> Response | None:
        """503 with Retry-After while draining, at the cap, or without Redis."""
        if self.hub.draining:
            return self._unavailable("shutting_down", "the gateway is shutting down")
        if self.hub.count >= self.settings.gateway_max_connections:
            return self._unavailable("too_many_connections", "connection limit reached")
        if not self.hub.connected:
            return self._unavailable("redis_unavailable", "the event source is unavailable")
        return None

    async def _admit(self, request: Request) -> Response | tuple[str, StreamId | None]:
        """Refuse (capacity, auth, tenant, bad id) or return the tenant and the last id."""
        refusal = self._capacity_refusal()
        if refusal is not None:
            return refusal
        try:
            principal = await authenticate(request, self.verifier, self.events_tokens)
        except InvalidToken as exc:
            metrics.REJECTED.labels("unauthorized").inc()
            return problem(
                401,
                "unauthorized",
                "Unauthorized",
                str(exc),
                headers={"WWW-Authenticate": "Bearer"},
            )
        tenant = str(principal.tenant_id)
        asked = request.query_params.get("tenant_id")
        if asked is not None and asked != tenant:
            metrics.REJECTED.labels("forbidden").inc()
            return problem(403, "tenant_mismatch", "Forbidden", "the token is for another tenant")
        raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
        try:
            last = parse_stream_id(raw) if raw else None
        except ValueError as exc:
            metrics.REJECTED.labels("bad_request").inc()
            return problem(400, "invalid_last_event_id", "Bad request", str(exc))
        return tenant, last

    async def events(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`GET /events` (raw ASGI): authenticate, catch up from the stream, then stream."""
        if scope["method"] not in ("GET", "HEAD"):
            response: Response = PlainTextResponse(
                "Method Not Allowed", 405, headers={"Allow": "GET, HEAD"}
            )
            await response(scope, receive, send)
            return
        admitted = await self._admit(Request(scope))
        if isinstance(admitted, Response):
            await admitted(scope, receive, send)
            return
        tenant, last = admitted
        if scope["method"] == "HEAD":
            await Response(media_type="text/event-stream")(scope, receive, send)
            return
        key = self.hub.key(tenant)
        if last is None:
            # A first connect resumes from the tail as it was *before* subscribing: an event
            # published in between is then replayed, not mistaken for one already sent.
            try:
                last = await current_tail(self.redis, key)
            except REDIS_DOWN:
                await self._unavailable("redis_unavailable", "the event source is unavailable")(
                    scope, receive, send
                )
                return
        # Subscribe first, then read the stream: live events arriving meanwhile are queued and
        # de-duplicated against the catch-up by id, so the hand-off has no gap and no duplicate.
        sub = self.hub.subscribe(tenant)
        try:
            await self.hub.listen_to(tenant)
            result = await catch_up(self.redis, key, last)
        except REDIS_DOWN:
            self.hub.unsubscribe(sub)
            refusal = self._unavailable("redis_unavailable", "the event source is unavailable")
            await refusal(scope, receive, send)
            return
        except BaseException:
            self.hub.unsubscribe(sub)
            raise
        first = first_chunk(sub, self._head, result)
        del result  # the catch-up frames: not kept for the connection's lifetime
        await serve(receive, send, hub=self.hub, sub=sub, redis=self.redis, first=first)

    async def healthz(self, _request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, _request: Request) -> Response:
        ready = self.hub.connected and not self.hub.draining
        body: dict[str, Any] = {
            "status": "ready" if ready else "unavailable",
            "redis": self.hub.connected,
            "draining": self.hub.draining,
            "connections": self.hub.count,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        self.hub.start()
        settings = self.settings
        gc_task = None
        if settings.gateway_gc_freeze_seconds > 0:
            gc_task = asyncio.create_task(
                run_gc_policy(settings.gateway_gc_freeze_seconds, settings.gateway_gc_full_seconds)
            )
        log.info("gateway_started", prefix=settings.events_key_prefix)
        try:
            yield
        finally:
            if gc_task is not None:
                gc_task.cancel()
                await asyncio.gather(gc_task, return_exceptions=True)
            await self.hub.stop()
            await self.pubsub_redis.aclose()
            await self.redis.aclose()


class GatewayApp:
    """`/events` goes straight to the gateway; the rest through Starlette.

    A Starlette route keeps its middleware and routing frames alive for as long as the
    response runs, which is the whole life of an SSE connection: a raw ASGI path saves that
    memory on every connection.
    """

    def __init__(self, gateway: Gateway, rest: Starlette) -> None:
        self.gateway = gateway
        self.rest = rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/events":
            await self.gateway.events(scope, receive, send)
        else:
            await self.rest(scope, receive, send)


def create_app(settings: Settings) -> tuple[GatewayApp, Gateway]:
    """Build the ASGI app and the gateway behind it."""
    gateway = Gateway(settings)
    routes = [
        Route("/healthz", gateway.healthz, methods=["GET"]),
        Route("/readyz", gateway.readyz, methods=["GET"]),
        Route("/metrics", metrics_response, methods=["GET"]),
    ]
    rest = Starlette(routes=routes, lifespan=gateway.lifespan)
    set_service_state(rest, gateway)
    return GatewayApp(gateway, rest), gateway
