"""Property-based run over the OpenAPI document against the live app: no 5xx anywhere."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from connections_api.app import create_app
from connections_api.config import Settings
from connections_api.testing import (
    JWT_SECRET,
    WEBHOOK_SECRET,
    start_receiver,
)
from contracts import Principal, Role
from rita_auth import issue_token

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
        from connections_api.testing import serve

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        receiver, stop_receiver = await start_receiver()
        app = create_app(Settings(**self.values, sync_webhook_url=receiver.url))
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


@pytest.fixture(scope="module")
def live_api(rita_database_url: str, redis_url: str) -> Iterator[LiveApi]:
    """A live API whose tenant has its default connections."""
    values: dict[str, Any] = {
        "database_url": rita_database_url,
        "redis_url": redis_url,
        "events_key_prefix": f"test:schemathesis:{uuid.uuid4().hex[:8]}:",
        "auth_jwt_secret": JWT_SECRET,
        "auth_jwks_url": None,
        "auth_dev_mode": True,
        "sync_webhook_secret": WEBHOOK_SECRET,
        "verify_webhook_max_seconds": 2,
        "webhook_timeout": 2,
        "db_pool_size": 5,
    }
    with LiveApi(values) as live:
        httpx.post(f"{live.url}/api/data-sources/seed", headers=_auth(), timeout=10)
        yield live


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
    # Real ids as well as random ones, so generated bodies reach the real code paths.
    real_ids = st.sampled_from([row["id"] for row in listed["data"]] + [None])
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
