"""The outbound URL policy (SSRF): judged on addresses and stub resolvers, never the network."""

from __future__ import annotations

import ipaddress

import pytest

from contracts import UnsafeUrlError, check_outbound_url, parse_allowed_hosts
from contracts.netpolicy import embedded_ipv4, is_public_address


class resolves_to:  # noqa: N801 - reads as a phrase at the call site
    """A stub resolver: every name answers `addresses`; it records what it was asked."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = list(addresses)
        self.asked: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        return self.addresses


def no_network(host: str, port: int) -> list[str]:
    raise AssertionError(f"the policy tried to resolve {host}:{port}")


@pytest.mark.parametrize(
    "url",
    [
        "http://company.atlassian.net",
        "https://127.0.0.1",
        "https://10.1.2.3",
        "https://169.254.169.254/latest",
        "https://[::1]:8443",
        "https://localhost",
        "https://localhost.",
        "https://LOCALHOST./rest",
        "https://api.localhost",
        # IPv6 forms that carry an IPv4 address (Python's is_global says True for several).
        "https://[64:ff9b::7f00:1]",  # NAT64 well-known prefix → 127.0.0.1
        "https://[64:ff9b::a9fe:a9fe]",  # NAT64 → 169.254.169.254 (cloud metadata)
        "https://[64:ff9b:1::7f00:1]",  # NAT64 local-use prefix
        "https://[::127.0.0.1]",  # IPv4-compatible
        "https://[::10.0.0.1]",
        "https://[::ffff:127.0.0.1]",  # IPv4-mapped
        "https://[::ffff:10.0.0.1]",
        "https://[2002:7f00:1::1]",  # 6to4 → 127.0.0.1
        "https://[2002:c0a8:101::1]",  # 6to4 → 192.168.1.1
        "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]",  # Teredo
        "https://[fe80::1]",
        "https://[fc00::1]",
    ],
)
def test_refuses_private_loopback_and_embedded_ipv4_forms(url: str) -> None:
    with pytest.raises(UnsafeUrlError):
        check_outbound_url(url, frozenset(), resolver=no_network)


@pytest.mark.parametrize(
    "url",
    [
        "https://8.8.8.8",
        "https://[2606:4700:4700::1111]",
        "https://[64:ff9b::808:808]",  # NAT64 of 8.8.8.8 is as public as 8.8.8.8
        "https://[2002:808:808::1]",  # 6to4 of 8.8.8.8
    ],
)
def test_accepts_public_literals_without_resolving(url: str) -> None:
    check_outbound_url(url, frozenset(), resolver=no_network)


@pytest.mark.parametrize(
    "answer", ["127.0.0.1", "10.0.0.7", "::1", "64:ff9b::7f00:1", "::ffff:169.254.169.254"]
)
def test_refuses_a_name_that_resolves_to_a_private_address(answer: str) -> None:
    resolver = resolves_to("93.184.216.34", answer)
    with pytest.raises(UnsafeUrlError, match="resolves to a private"):
        check_outbound_url("https://acme.atlassian.net", frozenset(), resolver=resolver)
    assert resolver.asked == [("acme.atlassian.net", 443)]


def test_accepts_a_name_that_resolves_only_to_public_addresses() -> None:
    resolver = resolves_to("93.184.216.34", "2606:4700::6810:84e5")
    check_outbound_url("https://acme.atlassian.net:8443/x", frozenset(), resolver=resolver)
    assert resolver.asked == [("acme.atlassian.net", 8443)]


def test_a_name_that_does_not_resolve_is_left_to_the_connect_time_check() -> None:
    check_outbound_url("https://does-not-resolve.invalid", frozenset(), resolver=resolves_to())


def test_trailing_dot_name_resolves_without_the_dot() -> None:
    resolver = resolves_to("127.0.0.1")
    with pytest.raises(UnsafeUrlError):
        check_outbound_url("https://internal.example.", frozenset(), resolver=resolver)
    assert resolver.asked == [("internal.example", 443)]


@pytest.mark.parametrize(
    "url", ["https://x.example.com:99999", "https://[bad", "https://x.example.com:abc/"]
)
def test_refuses_a_malformed_url_as_unsafe(url: str) -> None:
    # Callers catch UnsafeUrlError; a bare ValueError from urlsplit was an API 500.
    with pytest.raises(UnsafeUrlError):
        check_outbound_url(url, frozenset(), resolver=no_network)


def test_allowed_hosts_may_be_private_or_plain_http_and_sources_merge() -> None:
    allowed = parse_allowed_hosts("127.0.0.1:8004, fake-jira", "Fake-ServiceNow:8005 ,")
    assert allowed == {"127.0.0.1:8004", "fake-jira", "fake-servicenow:8005"}
    check_outbound_url("http://127.0.0.1:8004", allowed, resolver=no_network)
    check_outbound_url("http://fake-jira/rest", allowed, resolver=no_network)
    check_outbound_url("http://fake-jira./rest", allowed, resolver=no_network)
    with pytest.raises(UnsafeUrlError):
        check_outbound_url("http://127.0.0.1:8005", allowed, resolver=no_network)


def test_embedded_ipv4_unwraps_each_form() -> None:
    four = ipaddress.IPv4Address("127.0.0.1")
    for form in ("::ffff:127.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1"):
        assert embedded_ipv4(ipaddress.IPv6Address(form)) == four, form
    assert embedded_ipv4(ipaddress.IPv6Address("::1")) is None
    assert embedded_ipv4(ipaddress.IPv6Address("2606:4700::1")) is None
    assert not is_public_address(ipaddress.IPv6Address("fe80::1%eth0"))
