"""The SSRF check at connect time: every address an ITSM host resolves to must be public.

The URL is checked when a webhook arrives, but a name can resolve differently a moment later (DNS
rebinding), so the transport resolves it once more, refuses any private, loopback or link-local
answer, and connects to the very address it checked (TLS still verifies the host name).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import anyio
import httpcore
import httpx

from contracts import UnsafeUrlError
from contracts.netpolicy import Address, is_public_address, normalise_host, parse_address

# `(host, port) -> addresses`, awaited at every connect; tests pass a stub.
AsyncResolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """The system resolver through anyio (does not block the event loop)."""
    try:
        infos = await anyio.getaddrinfo(host, port, proto=6)  # 6: TCP
    except OSError as exc:
        raise httpcore.ConnectError(f"name resolution failed: {exc}") from exc
    return [str(info[4][0]) for info in infos]


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks and connects; hosts the operator allows may be private."""

    def __init__(
        self,
        allowed_private_hosts: Callable[[], frozenset[str]],
        resolver: AsyncResolver = system_resolver,
    ) -> None:
        # Read on every connect, like the URL check reads the settings on every webhook.
        self._allowed = allowed_private_hosts
        self._resolve = resolver
        self._inner = httpcore.AnyIOBackend()

    async def _addresses(self, host: str, port: int) -> list[Address]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        return [parse_address(raw) for raw in await self._resolve(host, port)]

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect to a checked address of `host` (or to `host` itself if it is allowed)."""
        lowered, allowed = normalise_host(host), self._allowed()
        if lowered not in allowed and f"{lowered}:{port}" not in allowed:
            addresses = await self._addresses(host, port)
            if not addresses or not all(is_public_address(address) for address in addresses):
                raise UnsafeUrlError(
                    "the URL's host resolves to a private, loopback or link-local address"
                )
            return await self._first_that_answers(
                [str(address) for address in addresses],
                port,
                timeout,
                local_address,
                socket_options,
            )
        return await self._first_that_answers([host], port, timeout, local_address, socket_options)

    async def _first_that_answers(
        self,
        targets: list[str],
        port: int,
        connect_timeout: float | None,
        local_address: str | None,
        socket_options: Iterable[Any] | None,
    ) -> httpcore.AsyncNetworkStream:
        error: httpcore.ConnectError | None = None
        for target in targets:
            try:
                return await self._inner.connect_tcp(
                    target,
                    port,
                    timeout=connect_timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None  # noqa: S101 - targets is never empty
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never used for an ITSM system."""
        raise UnsafeUrlError("unix sockets may not be called")

    async def sleep(self, seconds: float) -> None:
        """Delegate to anyio."""
        await self._inner.sleep(seconds)


def guarded_transport(
    allowed_private_hosts: Callable[[], frozenset[str]],
    limits: httpx.Limits,
    resolver: AsyncResolver = system_resolver,
) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose connections go through `GuardedBackend`."""
    transport = httpx.AsyncHTTPTransport(limits=limits)
    # httpx 0.28 has no public hook for the network backend; the pool hands it to each connection.
    transport._pool._network_backend = GuardedBackend(allowed_private_hosts, resolver)
    return transport
