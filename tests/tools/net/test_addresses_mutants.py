"""Exact outcomes of the deny tables and the host reader, row by row (see docs/mutation.md).

Mutation tools do not mutate module-level data, so every deny-table row has its own case: an
address that only that row denies, with that row's reason. The host-reader cases pin the
exact address read and the exact refusal message, at each boundary of each rule.
"""

from __future__ import annotations

import ipaddress
import re

import pytest

from tools.net import FetchPolicy, deny_reason, parse_host_ip
from tools.net.addresses import (
    DENIED_IPV4,
    DENIED_IPV6,
    _networks,
    _not_global,
    embedded_ipv4,
)

# (network, reason, an address this row is the first to match)
IPV4_ROWS = [
    ("169.254.169.254/32", "cloud metadata", "169.254.169.254"),
    ("168.63.129.16/32", "cloud metadata", "168.63.129.16"),
    ("100.100.100.200/32", "cloud metadata", "100.100.100.200"),
    ("0.0.0.0/8", "unspecified", "0.255.255.255"),
    ("10.0.0.0/8", "private", "10.255.0.1"),
    ("100.64.0.0/10", "carrier-grade NAT", "100.127.255.254"),
    ("127.0.0.0/8", "loopback", "127.255.255.254"),
    ("169.254.0.0/16", "link-local", "169.254.0.1"),
    ("172.16.0.0/12", "private", "172.31.255.254"),
    ("192.0.0.0/24", "IETF protocol assignments", "192.0.0.200"),
    ("192.0.2.0/24", "documentation", "192.0.2.77"),
    ("192.88.99.0/24", "6to4 relay anycast", "192.88.99.1"),
    ("192.168.0.0/16", "private", "192.168.255.254"),
    ("198.18.0.0/15", "benchmarking", "198.19.255.254"),
    ("198.51.100.0/24", "documentation", "198.51.100.7"),
    ("203.0.113.0/24", "documentation", "203.0.113.9"),
    ("224.0.0.0/4", "multicast", "239.255.255.250"),
    ("240.0.0.0/4", "reserved", "255.255.255.255"),
]
IPV6_ROWS = [
    ("fd00:ec2::254/128", "cloud metadata", "fd00:ec2::254"),
    ("::/128", "unspecified", "::"),
    ("::1/128", "loopback", "::1"),
    ("64:ff9b:1::/48", "local NAT64", "64:ff9b:1::1"),
    ("100::/64", "discard-only", "100::1"),
    ("2001::/23", "IETF protocol assignments", "2001:100::1"),
    ("2001:db8::/32", "documentation", "2001:db8:ffff::1"),
    ("3fff::/20", "documentation", "3fff:fff::1"),
    ("5f00::/16", "segment routing", "5f00:1::1"),
    ("fc00::/7", "unique-local", "fdff::1"),
    ("fe80::/10", "link-local", "febf::1"),
    ("fec0::/10", "site-local", "fec0::1"),
    ("ff00::/8", "multicast", "ff0e::1"),
]


def test_the_deny_tables_hold_exactly_the_listed_rows_in_order() -> None:
    assert [(str(net), label) for net, label in DENIED_IPV4] == [r[:2] for r in IPV4_ROWS]
    assert [(str(net), label) for net, label in DENIED_IPV6] == [r[:2] for r in IPV6_ROWS]


@pytest.mark.parametrize(("cidr", "reason", "address"), IPV4_ROWS + IPV6_ROWS)
def test_each_deny_row_refuses_its_addresses_for_its_reason(
    cidr: str, reason: str, address: str
) -> None:
    ip = ipaddress.ip_address(address)

    assert ip in ipaddress.ip_network(cidr)
    assert deny_reason(ip) == reason


@pytest.mark.parametrize(
    "address",
    # ipaddress calls these public; only their table row denies them.
    ["192.0.0.200", "192.88.99.1", "64:ff9b:1::1", "3fff:fff::1", "5f00:1::1", "fec0::1"],
)
def test_rows_python_calls_public_are_denied_by_the_table_alone(address: str) -> None:
    ip = ipaddress.ip_address(address)

    assert ip.is_global
    assert deny_reason(ip) is not None


def test_addresses_beside_the_rows_are_allowed() -> None:
    for address in ["11.0.0.1", "100.128.0.1", "172.32.0.1", "192.88.100.1", "198.20.0.1"]:
        assert deny_reason(ipaddress.ip_address(address)) is None, address
    for address in ["64:ff9b:2::1", "2001:200::1", "3fff:1000::1", "5f01::1", "ff::1"]:
        assert deny_reason(ipaddress.ip_address(address)) is None, address


def test_the_not_global_fallback_names_its_reason() -> None:
    # Reached for ranges a newer ipaddress knows and the tables do not list yet.
    assert _not_global(ipaddress.ip_address("10.0.0.1")) == "not publicly routable"
    assert _not_global(ipaddress.ip_address("8.8.8.8")) is None


def test_scoped_ipv6_addresses_are_refused_even_when_public() -> None:
    assert deny_reason(ipaddress.ip_address("2606:4700::1111%1")) == "scoped (interface-bound)"
    assert deny_reason(ipaddress.ip_address("fe80::1%eth0")) == "scoped (interface-bound)"


def test_an_allowed_ipv4_network_also_allows_it_inside_nat64_and_6to4() -> None:
    allowed = [ipaddress.ip_network("10.0.0.0/8")]

    assert deny_reason(ipaddress.ip_address("64:ff9b::10.0.0.1"), allowed) is None
    assert deny_reason(ipaddress.ip_address("2002:a00:1::"), allowed) is None
    policy = FetchPolicy(allow_networks=("10.0.0.0/8",))
    assert policy.address_denied(ipaddress.ip_address("64:ff9b::10.0.0.1")) is None


def test_ipv4_compatible_addresses_carry_ipv4_from_two_up() -> None:
    assert embedded_ipv4(ipaddress.IPv6Address("::2")) == ipaddress.IPv4Address("0.0.0.2")
    assert embedded_ipv4(ipaddress.IPv6Address("::1")) is None
    assert embedded_ipv4(ipaddress.IPv6Address("::")) is None
    assert deny_reason(ipaddress.ip_address("::2")) == "unspecified, inside an IPv6 address"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("8.8.8.8", "8.8.8.8"),
        ("1.2.3.4", "1.2.3.4"),
        ("1.255.255.255", "1.255.255.255"),
        ("255.255.255.255", "255.255.255.255"),
        ("1.2.65535", "1.2.255.255"),
        ("1.16777215", "1.255.255.255"),
        ("4294967295", "255.255.255.255"),
        ("127.", "0.0.0.127"),
        ("0x7f.1.", "127.0.0.1"),
    ],
)
def test_ipv4_parts_are_placed_at_their_byte_and_limited_to_their_width(
    host: str, expected: str
) -> None:
    assert parse_host_ip(host) == ipaddress.ip_address(expected)


@pytest.mark.parametrize(
    "host",
    [
        "126.256.0.1",  # a leading part over 255 (would wrap to 127.0.0.1)
        "256.0.0.1",
        "1.2.3.256",  # the last part wider than its one byte
        "1.2.65536",
        "1.16777216",
        "4294967296",
        "0.0.0.0.0",  # five parts, even when the fifth adds nothing
        "1.2.3.4.0",
        "1.2.3.4.5",
        "1..2",
        ".1.2",
        "08.0.0.1",  # not octal, not decimal
        "0x1g.1",
    ],
)
def test_invalid_numeric_hosts_are_refused_with_the_host_named(host: str) -> None:
    message = f"{host!r} is not a valid IPv4 address"

    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_host_ip(host)


@pytest.mark.parametrize("host", ["[::1", "::1]"])
def test_half_bracketed_ipv6_is_not_unwrapped(host: str) -> None:
    # ipaddress refuses it, naming the host as written (brackets and all).
    with pytest.raises(ValueError, match=re.escape(f"in {host!r}")):
        parse_host_ip(host)


@pytest.mark.parametrize("host", ["", ".", "example.", "localhost"])
def test_empty_and_dotted_names_are_names(host: str) -> None:
    assert parse_host_ip(host) is None


def test_the_table_builder_parses_each_row() -> None:
    # Called directly (not only at import) so that mutation testing exercises it.
    assert _networks([("10.0.0.0/8", "private"), ("::1/128", "loopback")]) == (
        (ipaddress.ip_network("10.0.0.0/8"), "private"),
        (ipaddress.ip_network("::1/128"), "loopback"),
    )
