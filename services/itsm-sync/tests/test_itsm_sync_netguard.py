"""The connect-time SSRF check, with a stub resolver: nothing here reaches beyond loopback."""

from __future__ import annotations

import httpx
import pytest

from contracts import UnsafeUrlError
from itsm_sync.connectors.netguard import guarded_transport

LIMITS = httpx.Limits(max_connections=1)


class answering:  # noqa: N801 - reads as a phrase at the call site
    """A stub resolver: every name answers `addresses`; it records what it was asked."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = list(addresses)
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        return self.addresses


async def refuses(url: str, resolver: answering) -> None:
    transport = guarded_transport(frozenset, LIMITS, resolver)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(UnsafeUrlError):
            await client.get(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://[64:ff9b::7f00:1]/rest",
        "https://[::127.0.0.1]/rest",
        "https://[2002:7f00:1::1]/rest",
        "https://[::ffff:127.0.0.1]/rest",
        "https://127.0.0.1/rest",
    ],
)
async def test_refuses_literal_addresses_that_hide_a_private_ipv4(url: str) -> None:
    resolver = answering()
    await refuses(url, resolver)
    assert resolver.asked == []  # a literal is judged as it is


@pytest.mark.parametrize("answer", ["127.0.0.1", "64:ff9b::a9fe:a9fe", "::ffff:10.0.0.1"])
async def test_refuses_a_name_rebound_to_a_private_address(answer: str) -> None:
    # The webhook's check saw a public address; at connect time the name answers privately.
    resolver = answering("93.184.216.34", answer)
    await refuses("https://acme.atlassian.net/rest/api/3/myself", resolver)
    assert resolver.asked == [("acme.atlassian.net", 443)]


async def test_allowed_private_host_is_not_resolved() -> None:
    # An allowed host connects as named; the stub proves no resolution happened. Nothing listens
    # on loopback's discard port, so the connect fails with a transport error, not UnsafeUrlError.
    port = 9
    resolver = answering()
    transport = guarded_transport(lambda: frozenset({f"127.0.0.1:{port}"}), LIMITS, resolver)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/")
    assert resolver.asked == []
