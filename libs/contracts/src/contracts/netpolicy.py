"""Outbound URL policy shared by the API (on input) and the sync service (on connect).

A Jira site URL is called by a server, so it must not reach into private networks (SSRF). Only the
hosts an operator lists in `JIRA_ALLOWED_PRIVATE_HOSTS` (e.g. the fake Jira, `127.0.0.1:8004`) may
resolve to private addresses or use plain http.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit


class UnsafeUrlError(ValueError):
    """The URL may not be called by Rita's servers."""


def parse_allowed_hosts(raw: str | Iterable[str]) -> frozenset[str]:
    """`"a:1, b"` → `{"a:1", "b"}`, lower-cased."""
    items = raw.split(",") if isinstance(raw, str) else raw
    return frozenset(item.strip().lower() for item in items if item.strip())


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_global and not address.is_multicast


def check_outbound_url(
    url: str, allowed_private_hosts: frozenset[str], *, resolve: bool = True
) -> None:
    """Raise `UnsafeUrlError` unless `url` is https to a public host (or an allowed host).

    A name that does not resolve here is accepted: the sync service checks again when it connects.
    """
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number in range
    except ValueError:
        raise UnsafeUrlError("the URL is not valid") from None
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeUrlError("the URL has no host")
    host_port = f"{host}:{port}" if port else host
    if host in allowed_private_hosts or host_port in allowed_private_hosts:
        return
    if parts.scheme != "https":
        raise UnsafeUrlError("the URL must use https")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if not _is_public(literal):
            raise UnsafeUrlError("the URL points at a private, loopback or link-local address")
        return
    if not resolve:
        return
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not _is_public(address):
            raise UnsafeUrlError(
                "the URL's host resolves to a private, loopback or link-local address"
            )
