"""The FastStream application: broker, subscriber, lifespan (database, Redis, group commit)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from faststream import AckPolicy
from faststream.asgi import AsgiFastStream
from faststream.rabbit import RabbitBroker, RabbitQueue
from faststream.rabbit.schemas import Channel
from faststream.specification import AsyncAPI
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from contracts import StatusMessage
from events import EventPublisher, EventsRedis, connect_redis
from observability import rabbit_middlewares
from status_consumer.applier import BatchApplier
from status_consumer.config import Settings
from status_consumer.deadletter import DeadLetters
from status_consumer.group_commit import DeliveryAcks, GroupCommitter, ShuttingDown
from status_consumer.handling import CURRENT_DELIVERY, decode_status, delivery_middleware
from status_consumer.health import routes
from store import prune_receipts

log = structlog.get_logger(__name__)
PRUNE_EVERY_SECONDS = 3600.0


@dataclass
class Runtime:
    """What the lifespan opens; the handler reads it."""

    engine: AsyncEngine | None = None
    redis: EventsRedis | None = None
    committer: GroupCommitter | None = None
    stopping: bool = False


async def _prune_forever(engine: AsyncEngine, days: int) -> None:
    while True:
        with contextlib.suppress(Exception):  # best effort; the next round retries
            async with engine.begin() as conn:
                pruned = await prune_receipts(conn, timedelta(days=days))
            if pruned:
                log.info("receipts_pruned", count=pruned)
        await asyncio.sleep(PRUNE_EVERY_SECONDS)


def create_app(settings: Settings) -> AsgiFastStream:
    """Build the consumer; nothing connects until the ASGI lifespan starts."""
    broker = RabbitBroker(
        settings.rabbitmq_url,
        # Confirms: a dead-lettered or requeued copy is on the broker before the original is acked.
        default_channel=Channel(
            prefetch_count=settings.prefetch_count, publisher_confirms=True, on_return_raises=True
        ),
        graceful_timeout=settings.graceful_timeout,
        # Per-message "received/processed" lines only at DEBUG: thousands per second otherwise.
        log_level=logging.DEBUG,
        # No FastDepends: `decode_status` validates once (see `handling`).
        apply_types=False,
        # With tracing on: each message's handling continues the trace in its AMQP headers.
        middlewares=rabbit_middlewares(),
    )
    acks = DeliveryAcks()
    dead = DeadLetters(
        broker, settings.status_queue, max_attempts=settings.max_attempts, ack=acks.ack_one
    )
    broker.add_middleware(delivery_middleware(acks, dead))
    runtime = Runtime()

    subscriber = broker.subscriber(
        # A plain durable queue without arguments, as publishers (itsm-sync) declare it.
        RabbitQueue(settings.status_queue, durable=True),
        ack_policy=AckPolicy.MANUAL,
        decoder=decode_status,
        title=f"{settings.status_queue}:consume",
        description="Status messages from the sync service, applied to Rita's database.",
    )

    @subscriber
    async def on_status(body: StatusMessage) -> None:
        """Apply one status message (verification, ticket_ingestion or sync).

        Returns once its batch is committed and acknowledged (or it was requeued or
        dead-lettered alone), so FastStream's graceful stop waits for in-flight batches.
        """
        if runtime.committer is None:
            return  # not started: stays unacknowledged
        try:
            await runtime.committer.submit(body, CURRENT_DELIVERY.get())
        except ShuttingDown:
            return  # not committed: RabbitMQ redelivers it after we disconnect

    @contextlib.asynccontextmanager
    async def lifespan(**_: Any) -> AsyncIterator[None]:
        engine = create_async_engine(
            # No pre-ping (a round trip per batch): a dead connection fails its batch as an
            # outage, SQLAlchemy discards it, and the retry gets a fresh one.
            settings.database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
        redis = connect_redis(settings.redis_url, cluster=settings.redis_cluster)
        publisher = EventPublisher(
            redis, prefix=settings.events_key_prefix, cluster=settings.redis_cluster
        )
        applier = BatchApplier(
            engine,
            publisher,
            acks,
            dead,
            max_backoff=settings.retry_max_backoff,
            stopping=lambda: runtime.stopping,
        )
        committer = GroupCommitter(
            applier.flush,
            max_size=settings.batch_max_size,
            max_wait=settings.batch_max_wait_ms / 1000,
        )
        committer.start()
        runtime.engine, runtime.redis, runtime.committer = engine, redis, committer
        pruner = asyncio.create_task(_prune_forever(engine, settings.receipts_retention_days))
        await broker.connect()
        await dead.declare()
        log.info("consumer_starting", queue=settings.status_queue, port=settings.port)
        try:
            yield
        finally:
            pruner.cancel()
            await committer.close()
            await redis.aclose()
            await engine.dispose()
            log.info("consumer_stopped")

    async def on_shutdown() -> None:
        # Stop waiting out outages so in-flight handlers return (unacked) within the grace time.
        runtime.stopping = True

    return AsgiFastStream(
        broker,
        asgi_routes=routes(broker, subscriber, lambda: runtime.engine),
        lifespan=lifespan,
        on_shutdown=[on_shutdown],
        specification=AsyncAPI(
            title="status-consumer",
            version="0.1.0",
            description="Consumes the status messages of the sync service (DESIGN.md §6).",
        ),
    )
