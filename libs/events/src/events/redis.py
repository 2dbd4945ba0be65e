"""One way to open the events' Redis client, single server or cluster (`REDIS_CLUSTER`)."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from events.publisher import EventsRedis

# A Redis that does not answer (a dropped network rather than a refused connection) must not
# hold an API request or a consumer batch for the OS's connect timeout (minutes): after these,
# publishing fails and `publish_committed` answers it with a resync once Redis is back.
CONNECT_TIMEOUT_SECONDS = 2.0
COMMAND_TIMEOUT_SECONDS = 5.0


def connect_redis(url: str, *, cluster: bool = False, **options: Any) -> EventsRedis:
    """A client for `url`: a `RedisCluster` (any node's URL; it discovers the rest) or a `Redis`.

    Connections open lazily; `options` are redis-py's and override the timeouts above.
    """
    options.setdefault("socket_connect_timeout", CONNECT_TIMEOUT_SECONDS)
    options.setdefault("socket_timeout", COMMAND_TIMEOUT_SECONDS)
    if cluster:
        return RedisCluster.from_url(url, **options)
    return Redis.from_url(url, **options)
