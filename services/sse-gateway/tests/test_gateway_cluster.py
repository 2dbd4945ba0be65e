"""REDIS_CLUSTER=true on a real three-node cluster started by the test: per-tenant sharded
subscriptions deliver, replay and resync as on a single Redis, and are dropped when the last
client of a tenant leaves."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from redis.asyncio.cluster import RedisCluster

from contracts import EventName
from events import EventPublisher, OutgoingEvent
from rita_testing import eventually
from rita_testing.redis_servers import RedisCluster as ClusterServers
from rita_testing.sse import SseServer
from sse_gateway.app import Gateway
from sse_gateway.listeners import ShardedListener

StartGateway = Callable[..., Awaitable[SseServer[Gateway]]]
UPDATE = EventName.DATA_SOURCE_UPDATE


async def test_sharded_fan_out_replay_resync_and_unsubscribe(
    start_gateway: StartGateway, redis_cluster: ClusterServers, redis_cluster_client: RedisCluster
) -> None:
    gw = await start_gateway(REDIS_URL=redis_cluster.url, REDIS_CLUSTER=True)
    listener = gw.app.hub._listener
    assert isinstance(listener, ShardedListener)
    publisher = EventPublisher(
        redis_cluster_client, prefix=gw.app.settings.events_key_prefix, cluster=True
    )
    tenants = [uuid.uuid4() for _ in range(4)]
    owners = {redis_cluster_client.get_node_from_key(publisher.key(t)) for t in tenants}
    assert len({n.name for n in owners if n is not None}) > 1  # more than one shard involved
    clients = {t: await gw.connect(t) for t in tenants[:3]}  # the fourth has no client here

    ids = await publisher.publish_many(
        [OutgoingEvent(tenants[n % 4], UPDATE, {"n": n}) for n in range(20)]
    )
    for index, tenant in enumerate(tenants[:3]):
        mine = ids[index::4]
        await eventually(lambda c=clients[tenant], m=mine: c.ids() == m)  # type: ignore[misc]

    # Replay after a reconnect, then live, on the tenant's shard.
    first = tenants[0]
    seen = clients[first].ids()
    await clients[first].close()
    [missed] = await publisher.publish_many([OutgoingEvent(first, UPDATE, {"n": 20})])
    again = await gw.connect(first, headers={"Last-Event-ID": seen[-1]})
    await eventually(lambda: again.ids() == [missed])
    [live] = await publisher.publish_many([OutgoingEvent(first, UPDATE, {"n": 21})])
    await eventually(lambda: again.ids() == [missed, live])

    # An id older than the window gets resync (the hash-tagged stream is read through the cluster).
    second = tenants[1]
    await redis_cluster_client.xtrim(publisher.key(second), maxlen=1, approximate=False)
    behind = await gw.connect(second, headers={"Last-Event-ID": ids[1]})
    await eventually(lambda: len(behind.named("resync")) == 1)
    assert behind.ids() == []

    # The last client of a tenant leaves: its sharded subscription goes with it.
    third = tenants[2]
    assert publisher.key(third) in listener._wanted
    await clients[third].close()
    await eventually(lambda: publisher.key(third) not in listener._wanted)
    await publisher.publish_many([OutgoingEvent(third, UPDATE, {"n": 22})])
    [after] = await publisher.publish_many([OutgoingEvent(first, UPDATE, {"n": 23})])
    await eventually(lambda: again.ids() == [missed, live, after])
    assert gw.app.hub.connected


async def test_a_shard_restart_is_resumed_from_the_stream(
    start_gateway: StartGateway, redis_cluster: ClusterServers, redis_cluster_client: RedisCluster
) -> None:
    gw = await start_gateway(REDIS_URL=redis_cluster.url, REDIS_CLUSTER=True)
    publisher = EventPublisher(
        redis_cluster_client, prefix=gw.app.settings.events_key_prefix, cluster=True
    )
    tenant = uuid.uuid4()
    client = await gw.connect(tenant)
    [before] = await publisher.publish_many([OutgoingEvent(tenant, UPDATE, {"n": 0})])
    await eventually(lambda: client.ids() == [before])
    node = redis_cluster.node_for(redis_cluster_client, publisher.key(tenant))

    await node.stop()  # the tenant's shard goes away, and comes back without its data
    await eventually(lambda: not gw.app.hub.connected)
    await node.start()
    await eventually(lambda: gw.app.hub.connected, within=30)
    [after] = await publisher.publish_many([OutgoingEvent(tenant, UPDATE, {"n": 1})])

    # The stream was reset: the client is told to refetch, then gets what came after.
    await eventually(lambda: len(client.named("resync")) == 1 and client.ids()[-1:] == [after])
    assert not client.finished
    assert client.named("reconnect") == []
