"""The sharded path on a real three-node Redis Cluster started by the test (loopback ports)."""

import uuid

from redis.asyncio.cluster import ClusterPubSub, RedisCluster

from contracts import EventName, tenant_events_key
from events import (
    EventPublisher,
    OutgoingEvent,
    read_channel_message,
    read_stream_entry,
)
from rita_testing import eventually
from rita_testing.redis_servers import RedisCluster as ClusterServers

UPDATE = EventName.DATA_SOURCE_UPDATE


async def _sharded(pubsub: ClusterPubSub, expected: int) -> dict[str, list[bytes]]:
    """Read sharded messages (round robin over the shards) until `expected` arrived."""
    got: dict[str, list[bytes]] = {}

    async def read_one() -> bool:
        message = await pubsub.get_sharded_message(ignore_subscribe_messages=True, timeout=0.01)
        if message is not None:
            got.setdefault(message["channel"].decode(), []).append(message["data"])
        return sum(len(v) for v in got.values()) >= expected

    await eventually(read_one, what=f"{expected} sharded messages")
    return got


async def test_each_tenant_goes_to_its_own_slot_with_spublish(
    redis_cluster_client: RedisCluster,
) -> None:
    tenants = [uuid.uuid4() for _ in range(6)]
    keys = [tenant_events_key(t, "rita:events:", cluster=True) for t in tenants]
    assert keys[0] == f"rita:events:{{{tenants[0]}}}"
    # The tenants are spread over the shards: the test covers more than one node.
    nodes = [redis_cluster_client.get_node_from_key(k) for k in keys]
    assert len({n.name for n in nodes if n is not None}) > 1
    pubsub = redis_cluster_client.pubsub()
    await pubsub.ssubscribe(*keys[:3])
    publisher = EventPublisher(redis_cluster_client, cluster=True)
    items = [OutgoingEvent(tenants[n % 6], UPDATE, {"n": n}) for n in range(60)]

    ids = await publisher.publish_many(items)

    live = await _sharded(pubsub, 30)
    await pubsub.aclose()
    for index, (tenant, key) in enumerate(zip(tenants, keys, strict=True)):
        stored = [read_stream_entry(i, f) for i, f in await redis_cluster_client.xrange(key) or []]
        assert [e.id for e in stored] == ids[index::6]
        assert [e.decoded().data["n"] for e in stored] == list(range(index, 60, 6))
        if index < 3:  # subscribed: the live events are the stream's, in order
            assert [read_channel_message(m) for m in live[key]] == stored
        else:
            assert key not in live
        assert tenant  # every tenant had its own stream


async def test_a_shard_down_then_back_gets_its_tenants_a_resync(
    redis_cluster_client: RedisCluster, redis_cluster: ClusterServers
) -> None:
    tenant = uuid.uuid4()
    publisher = EventPublisher(redis_cluster_client, cluster=True, recovery_max_wait=0.2)
    node = redis_cluster.node_for(redis_cluster_client, publisher.key(tenant))
    await node.stop()  # the shard that owns the tenant's slot (it restarts without its data)
    assert await publisher.publish_committed([OutgoingEvent(tenant, UPDATE, {"n": 1})]) is False
    assert publisher.pending_tenants == [str(tenant)]

    await node.start()
    await eventually(lambda: not publisher.pending_tenants, within=30, what="resync sent")
    entries = await redis_cluster_client.xrange(publisher.key(tenant)) or []
    assert [read_stream_entry(i, f).event for i, f in entries] == [EventName.RESYNC]
    await publisher.aclose()
