"""One way to open the events' Redis client, single server or cluster (`REDIS_CLUSTER`)."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from events.publisher import EventsRedis


def connect_redis(url: str, *, cluster: bool = False, **options: Any) -> EventsRedis:
    """A client for `url`: a `RedisCluster` (any node's URL; it discovers the rest) or a `Redis`.

    Connections open lazily; `options` are redis-py's (timeouts, retries).
    """
    if cluster:
        return RedisCluster.from_url(url, **options)
    return Redis.from_url(url, **options)
