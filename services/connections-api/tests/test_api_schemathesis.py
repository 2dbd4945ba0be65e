"""Property-based run over the OpenAPI document against the live app: no 5xx anywhere."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
import redis
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from connections_api.app import create_app
from connections_api.config import Settings
from contracts import DEFAULT_DATA_SOURCES, Principal, Role
from rita_auth import issue_token
from rita_testing import asyncpg_dsn
from rita_testing.connections_api import (
    JWT_SECRET,
    WEBHOOK_SECRET,
    start_receiver,
)
from rita_testing.helpers import public_stub_resolver
from rita_testing.servers import run_async

TENANT = uuid.uuid4()


class LiveApi:
    """The API and a receiver served by uvicorn on loopback, in a thread with its own loop."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.url = ""
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        from rita_testing.connections_api import serve

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        receiver, stop_receiver = await start_receiver()
        app = create_app(
            Settings(**self.values, sync_webhook_url=receiver.url), resolver=public_stub_resolver
        )
        server, task, url = await serve(app, lifespan="on")
        self.url = url.removesuffix("/webhook")
        self._ready.set()
        await self._stop.wait()
        server.should_exit = True
        await task
        await stop_receiver()

    def __enter__(self) -> LiveApi:
        self._thread.start()
        if not self._ready.wait(30):
            raise TimeoutError("the API did not start")
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


async def _delete_outbox(database_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await conn.execute("DELETE FROM webhook_outbox")
    finally:
        await conn.close()


def _delete_keys(redis_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture(scope="module")
def live_api(module_database_url: str, redis_url: str) -> Iterator[LiveApi]:
    """A live API on this module's own database whose tenant has its default connections;
    its Redis keys and the webhooks it queued are removed afterwards."""
    prefix = f"test:schemathesis:{uuid.uuid4().hex[:8]}:"
    values: dict[str, Any] = {
        "database_url": module_database_url,
        "redis_url": redis_url,
        "events_key_prefix": prefix,
        "auth_jwt_secret": JWT_SECRET,
        "auth_jwks_url": None,
        "auth_dev_mode": True,
        "sync_webhook_secret": WEBHOOK_SECRET,
        "verify_webhook_max_seconds": 2,
        "webhook_timeout": 2,
        "db_pool_size": 5,
    }
    try:
        with LiveApi(values) as live:
            seeded = httpx.post(f"{live.url}/api/data-sources/seed", headers=_auth(), timeout=10)
            assert seeded.status_code == 200, seeded.text
            assert seeded.json()["count"] == len(DEFAULT_DATA_SOURCES)
            yield live
    finally:
        run_async(lambda: _delete_outbox(module_database_url))
        _delete_keys(redis_url, prefix)


@pytest.fixture(scope="module")
def api_schema(live_api: LiveApi) -> Any:
    """The app's own OpenAPI document."""
    document = httpx.get(f"{live_api.url}/openapi.json", timeout=10).json()
    return schemathesis.openapi.from_dict(document)


def _auth() -> dict[str, str]:
    principal = Principal(sub="fuzzer", email="f@example.com", tenant_id=TENANT, role=Role.ADMIN)
    return {"Authorization": f"Bearer {issue_token(JWT_SECRET, principal, ttl_seconds=3600)}"}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors(api_schema: Any, live_api: LiveApi, mode: GenerationMode) -> None:
    listed = httpx.get(f"{live_api.url}/api/data-sources", headers=_auth(), timeout=10).json()
    ids = [row["id"] for row in listed["data"]]
    assert len(ids) == len(DEFAULT_DATA_SOURCES)  # the seeded rows, not an empty list
    # Real ids as well as the generated (random) ones (None: keep what schemathesis made), so
    # generated bodies reach the real code paths.
    real_ids = st.sampled_from([*ids, None])
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode), connection_id=real_ids)
        @settings(
            max_examples=10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def no_5xx(case: Any, connection_id: str | None) -> None:
            if connection_id and "connection_id" in (case.path_parameters or {}):
                case.path_parameters["connection_id"] = connection_id
            response = case.call(base_url=live_api.url, headers=_auth(), timeout=15)
            assert response.status_code < 500, (case.method, case.path, response.text)

        # An operation without inputs has no negative cases.
        with contextlib.suppress(Unsatisfiable):
            no_5xx()
