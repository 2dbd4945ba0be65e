"""Outbound URL policy shared by the API (on input) and the sync service (on connect).

An ITSM site URL (a Jira site, a ServiceNow instance) is called by a server, so it must not reach
into private networks (SSRF). Only the hosts an operator lists in `ALLOWED_PRIVATE_HOSTS` (or its
older name `JIRA_ALLOWED_PRIVATE_HOSTS`; e.g. the emulators, `127.0.0.1:8004,127.0.0.1:8005`) may
resolve to private addresses or use plain http. The same policy holds for every connector.

`ipaddress`'s `is_global` judges an IPv6 address by its own prefix, so an IPv6 form that carries
an IPv4 address (`[64:ff9b::7f00:1]`, `[::127.0.0.1]`, `[2002:7f00:1::1]`) looks public while the
network may deliver it to 127.0.0.1. `is_public_address` unwraps every such form and judges the
IPv4 address inside; forms it cannot judge (Teredo, NAT64 local-use) are refused.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Final
from urllib.parse import urlsplit

from pydantic import BaseModel

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# `(host, port) -> addresses`: the system resolver by default; tests pass a stub.
Resolver = Callable[[str, int], list[str]]

# RFC 6052 well-known NAT64 prefix: the IPv4 address is the low 32 bits.
_NAT64_WELL_KNOWN: Final = ipaddress.IPv6Network("64:ff9b::/96")
# RFC 8215 local-use NAT64 prefix: where the IPv4 sits depends on the operator's prefix length.
_NAT64_LOCAL_USE: Final = ipaddress.IPv6Network("64:ff9b:1::/48")
# RFC 4291 deprecated IPv4-compatible addresses (`::a.b.c.d`).
_IPV4_COMPATIBLE: Final = ipaddress.IPv6Network("::/96")
_TEREDO: Final = ipaddress.IPv6Network("2001::/32")
# RFC 6761: `localhost` and every name below it are loopback whatever a resolver says.
_LOOPBACK_NAMES: Final = ("localhost",)


class UnsafeUrlError(ValueError):
    """The URL may not be called by Rita's servers."""


def parse_allowed_hosts(*raw: str | Iterable[str]) -> frozenset[str]:
    """`"a:1, b"` → `{"a:1", "b"}`, lower-cased; several sources are merged."""
    hosts: set[str] = set()
    for source in raw:
        items = source.split(",") if isinstance(source, str) else source
        hosts.update(item.strip().lower() for item in items if item.strip())
    return frozenset(hosts)


class PrivateHostsSettings(BaseModel):
    """The two variables of the allow-list, for the settings of each service that applies it."""

    # `host[:port]`, comma separated; the JIRA_ name is the first wave's, still read and merged.
    allowed_private_hosts: str = ""
    jira_allowed_private_hosts: str = ""

    @property
    def private_hosts(self) -> frozenset[str]:
        """Hosts that may be private or plain http (both variables, merged)."""
        return parse_allowed_hosts(self.allowed_private_hosts, self.jira_allowed_private_hosts)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64_WELL_KNOWN or (
        address in _IPV4_COMPATIBLE and int(address) > 1  # `::` and `::1` are not IPv4 forms
    ):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: Address) -> bool:
    """Whether a server may connect to `address`: global, not multicast, no hidden IPv4 inside."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            return False
        if address in _TEREDO or address in _NAT64_LOCAL_USE:
            return False
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_public_address(inner)
    return address.is_global and not address.is_multicast


def normalise_host(host: str) -> str:
    """Lower-case, without a fully qualified name's trailing dot (`localhost.` is `localhost`)."""
    return host.lower().rstrip(".")


def is_loopback_name(host: str) -> bool:
    """`localhost`, `localhost.`, `api.localhost`: loopback by definition (RFC 6761)."""
    name = normalise_host(host)
    return any(name == n or name.endswith(f".{n}") for n in _LOOPBACK_NAMES)


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for `host` (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return [str(info[4][0]) for info in infos]


def parse_address(raw: str) -> Address:
    """An address from a resolver answer, without an IPv6 zone (`fe80::1%eth0`)."""
    return ipaddress.ip_address(raw.split("%", 1)[0])


def check_outbound_url(
    url: str,
    allowed_private_hosts: frozenset[str],
    *,
    resolve: bool = True,
    resolver: Resolver = system_resolver,
) -> None:
    """Raise `UnsafeUrlError` unless `url` is https to a public host (or an allowed host).

    A name that does not resolve here is accepted: the sync service checks again when it connects.
    """
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number in range
    except ValueError:
        raise UnsafeUrlError("the URL is not valid") from None
    host = normalise_host(parts.hostname or "")
    if not host:
        raise UnsafeUrlError("the URL has no host")
    host_port = f"{host}:{port}" if port else host
    if host in allowed_private_hosts or host_port in allowed_private_hosts:
        return
    if parts.scheme != "https":
        raise UnsafeUrlError("the URL must use https")
    if is_loopback_name(host):
        raise UnsafeUrlError("the URL points at a private, loopback or link-local address")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if not is_public_address(literal):
            raise UnsafeUrlError("the URL points at a private, loopback or link-local address")
        return
    if not resolve:
        return
    for raw in resolver(host, port or 443):
        if not is_public_address(parse_address(raw)):
            raise UnsafeUrlError(
                "the URL's host resolves to a private, loopback or link-local address"
            )
