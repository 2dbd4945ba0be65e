"""The SSRF check at connect time: the service's HTTP client never reaches a private address."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from pydantic import SecretStr

from itsm_sync.config import Settings
from itsm_sync.jira import JiraClient, JiraError, RetryPolicy
from itsm_sync.service import Service

FAST = RetryPolicy(max_retries=1, max_rate_limit_retries=1, max_backoff=0.01, base_backoff=0.001)


class Listener:
    """A loopback TCP server that counts the connections it accepts."""

    def __init__(self) -> None:
        self.accepted = 0
        self.port = 0

    async def _on_connect(
        self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.accepted += 1
        writer.close()


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    """A listener on 127.0.0.1 and a free port."""
    box = Listener()
    server = await asyncio.start_server(box._on_connect, "127.0.0.1", 0)
    box.port = server.sockets[0].getsockname()[1]
    async with server:
        yield box


@pytest.fixture
async def service_http(make_settings: Callable[..., Settings]) -> AsyncIterator[Service]:
    """A service that is not started: only its HTTP client is used."""
    svc = Service(make_settings())
    try:
        yield svc
    finally:
        await svc.deps.http.aclose()
        await svc.engine.dispose()


async def test_a_host_resolving_to_loopback_is_refused_before_connecting(
    service_http: Service, listener: Listener
) -> None:
    # `localhost` stands for a public name whose DNS answer turned private after the URL check.
    site = f"https://localhost:{listener.port}"
    client = JiraClient(service_http.deps.http, site, "a@b.co", SecretStr("tok-123"), FAST)
    with pytest.raises(JiraError, match="may not be called") as caught:
        await client.myself()
    assert listener.accepted == 0
    assert "tok-123" not in str(caught.value)


async def test_an_allowed_private_host_is_still_reached(
    make_settings: Callable[..., Settings], listener: Listener
) -> None:
    svc = Service(make_settings(jira_allowed_private_hosts=f"127.0.0.1:{listener.port}"))
    try:
        client = JiraClient(
            svc.deps.http, f"http://127.0.0.1:{listener.port}", "a@b.co", SecretStr("t"), FAST
        )
        with pytest.raises(JiraError):
            await client.myself()
        assert listener.accepted >= 1
    finally:
        await svc.deps.http.aclose()
        await svc.engine.dispose()
