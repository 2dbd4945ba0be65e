"""Where the hub's live events come from: one pattern subscription, or sharded ones (cluster).

Both keep the same promise to the hub: `listen_to(tenant)` returns once an event published on
the tenant's channel from now on will be delivered, so a catch-up read after it leaves no gap;
and when the subscription was lost and is back, `restored()` tells every connection to re-read
its stream from its cursor. A lost subscription is rebuilt with jittered exponential backoff
(tenacity, capped at 5 s), never given up.

- Single Redis (`PatternListener`): one `PSUBSCRIBE <prefix>*` for every tenant; `listen_to` has
  nothing to wait for once it is confirmed.
- Redis Cluster (`ShardedListener`): pattern subscriptions do not exist for sharded channels,
  so the gateway `SSUBSCRIBE`s each tenant that has a client here, through redis-py's
  `ClusterPubSub` (one connection per shard), reads each shard in its own task, and
  `SUNSUBSCRIBE`s when the tenant's last client leaves. `listen_to` waits for the shard's
  confirmation of the tenant's channel.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Final, Protocol

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterPubSub, RedisCluster
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from contracts import events_channel_pattern, tenant_events_key
from events.wire import text
from observability import RetryLog
from sse_gateway import metrics

log = structlog.get_logger(__name__)

Deliver = Callable[[Any, Any], None]  # (channel, message body) as redis-py returns them
# How long a new connection waits for its shard to confirm the tenant's subscription.
_CONFIRM_SECONDS: Final = 5.0


class Listener(Protocol):
    connected: bool

    async def run(self) -> None: ...

    async def listen_to(self, tenant: str) -> None: ...

    def forget(self, tenant: str) -> None: ...


class _Reconnecting:
    """The shared part: a session that runs until it fails, restarted with backoff."""

    def __init__(self, restored: Callable[[], None]) -> None:
        self._restored = restored
        self.connected = False

    async def _session(self, first: bool) -> None:
        raise NotImplementedError

    def _up(self, first: bool) -> None:
        self.connected = True
        metrics.REDIS_CONNECTED.set(1)
        if not first:
            metrics.REDIS_RECONNECTS.inc()
            log.info("redis_subscription_restored")
            self._restored()

    def _down(self) -> None:
        self.connected = False
        metrics.REDIS_CONNECTED.set(0)

    async def run(self) -> None:
        """Keep the subscription alive for as long as the gateway runs."""
        first = True

        retrying = AsyncRetrying(
            # Any failure (Redis gone, a bug in one message) must not end the subscription.
            retry=retry_if_exception_type(Exception),
            # At most ~1.5 s between attempts: a Redis that returns is noticed within that, so
            # clients are right again within the 5 s of issue 12 (chaos suite, Redis restart).
            wait=wait_exponential_jitter(multiplier=0.1, max=1.0, jitter=0.5),
            before_sleep=RetryLog("redis_subscription_lost"),
        )
        async for attempt in retrying:
            with attempt:
                try:
                    await self._session(first)
                finally:
                    self._down()
            first = False


class PatternListener(_Reconnecting):
    """One `PSUBSCRIBE` for every tenant (a single Redis)."""

    def __init__(self, redis: Redis, prefix: str, deliver: Deliver, restored: Callable[[], None]):
        super().__init__(restored)
        self._redis = redis
        self._pattern = events_channel_pattern(prefix)
        self._deliver = deliver

    async def _session(self, first: bool) -> None:
        pubsub = self._redis.pubsub()
        try:
            await pubsub.psubscribe(self._pattern)
            while (await pubsub.get_message(timeout=10.0)) is None:
                pass  # the psubscribe confirmation: from here on nothing is missed
            self._up(first)
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=30.0)
                if message is not None and message["type"] == "pmessage":
                    self._deliver(message["channel"], message["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def listen_to(self, tenant: str) -> None:
        """Every tenant is covered by the pattern."""

    def forget(self, tenant: str) -> None:
        """Nothing to undo for one tenant."""


class ShardedListener(_Reconnecting):
    """`SSUBSCRIBE` per tenant with local clients, one reader task per shard (Redis Cluster)."""

    def __init__(
        self, cluster: RedisCluster, prefix: str, deliver: Deliver, restored: Callable[[], None]
    ):
        super().__init__(restored)
        self._cluster = cluster
        self._prefix = prefix
        self._deliver = deliver
        # Channel → resolved once its shard confirmed the subscription (this session).
        self._wanted: dict[str, asyncio.Future[None]] = {}
        # Channels we asked to leave: their `sunsubscribe` is expected, not a lost subscription.
        self._leaving: set[str] = set()
        self._pubsub: ClusterPubSub | None = None
        self._readers: dict[str, asyncio.Task[None]] = {}
        self._failed: asyncio.Future[None] | None = None

    def _channel(self, tenant: str) -> str:
        return tenant_events_key(tenant, self._prefix, cluster=True)

    async def _session(self, first: bool) -> None:
        loop = asyncio.get_running_loop()
        self._failed = loop.create_future()
        self._pubsub = self._cluster.pubsub()
        try:
            await self._cluster.initialize()
            for channel in list(self._wanted):
                self._wanted[channel] = loop.create_future()
                await self._subscribe(channel)
            pending = list(self._wanted.values())
            if pending:
                await asyncio.wait_for(asyncio.gather(*pending), _CONFIRM_SECONDS)
            await self._serving()
            self._up(first)
            await self._failed  # a shard reader failed: rebuild every subscription
        finally:
            if self._failed.done() and not self._failed.cancelled():
                self._failed.exception()  # retrieved here when the session ended first
            self._leaving.clear()
            readers, self._readers = list(self._readers.values()), {}
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            pubsub, self._pubsub = self._pubsub, None
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _serving(self) -> None:
        """Raise unless every shard reports `cluster_state:ok`: a restarted shard confirms
        SSUBSCRIBE before it serves the reads that resuming clients are about to make."""
        for node in self._cluster.get_primaries():
            info = await self._cluster.cluster_info(target_nodes=node)
            if info.get("cluster_state") != "ok":
                raise ConnectionError(
                    f"cluster state is {info.get('cluster_state')} on {node.name}"
                )

    async def _subscribe(self, channel: str) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            return  # the next session subscribes every wanted channel
        await pubsub.ssubscribe(channel)
        for name in list(pubsub.node_pubsub_mapping):
            reader = self._readers.get(name)
            if reader is None or reader.done():
                self._readers[name] = asyncio.create_task(self._read(pubsub, name))

    async def _read(self, pubsub: ClusterPubSub, node_name: str) -> None:
        node = self._cluster.get_node(node_name=node_name)
        try:
            while node is not None and node_name in pubsub.node_pubsub_mapping:
                message = await pubsub.get_sharded_message(target_node=node, timeout=30.0)
                if message is None:
                    continue
                kind = text(message["type"])
                if kind == "smessage":
                    self._deliver(message["channel"], message["data"])
                elif kind == "ssubscribe":
                    waiter = self._wanted.get(text(message["channel"]))
                    if waiter is not None and not waiter.done():
                        waiter.set_result(None)
                elif kind == "sunsubscribe":
                    channel = text(message["channel"])
                    if channel in self._leaving:
                        self._leaving.discard(channel)
                    elif channel in self._wanted:
                        # The shard dropped a channel we still want (slot moved): rebuild.
                        raise ConnectionError("a shard ended a wanted subscription")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._failed is not None and not self._failed.done():
                self._failed.set_exception(exc)

    async def listen_to(self, tenant: str) -> None:
        """Subscribe the tenant's sharded channel (once) and wait for its confirmation."""
        channel = self._channel(tenant)
        waiter = self._wanted.get(channel)
        if waiter is None:
            waiter = asyncio.get_running_loop().create_future()
            self._wanted[channel] = waiter
            if not self.connected:
                raise ConnectionError("the event source is unavailable")
            await self._subscribe(channel)
        await asyncio.wait_for(asyncio.shield(waiter), _CONFIRM_SECONDS)

    def forget(self, tenant: str) -> None:
        """The tenant's last local client left: stop receiving its channel."""
        channel = self._channel(tenant)
        if self._wanted.pop(channel, None) is not None and self._pubsub is not None:
            task = asyncio.get_running_loop().create_task(self._unsubscribe(self._pubsub, channel))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _unsubscribe(self, pubsub: ClusterPubSub, channel: str) -> None:
        if channel not in self._wanted:  # not wanted again meanwhile
            self._leaving.add(channel)
            await pubsub.sunsubscribe(channel)


def make_listener(
    redis: Redis | RedisCluster, prefix: str, deliver: Deliver, restored: Callable[[], None]
) -> PatternListener | ShardedListener:
    """The listener for this Redis: sharded for a cluster client, one pattern otherwise."""
    if isinstance(redis, RedisCluster):
        return ShardedListener(redis, prefix, deliver, restored)
    return PatternListener(redis, prefix, deliver, restored)


__all__ = ["Listener", "PatternListener", "PubSub", "ShardedListener", "make_listener"]
