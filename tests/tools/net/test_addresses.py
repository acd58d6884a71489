"""Unit tests of the deny ranges, host spellings and URL rules (no network)."""

from __future__ import annotations

import ipaddress
import re
import socket

import pytest

from tools.net import FetchDenied, FetchPolicy, check_url, deny_reason, parse_host_ip
from tools.net.connections import ConnectionLog, guarded_socket_factory


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0x7f.0x0.0x0.0x1", "127.0.0.1"),
        ("10.0.0.1.", "10.0.0.1"),
        ("0", "0.0.0.0"),
        ("0x", "0.0.0.0"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
    ],
)
def test_odd_ip_spellings_are_read_like_browsers_do(host: str, expected: str) -> None:
    assert parse_host_ip(host) == ipaddress.ip_address(expected)


@pytest.mark.parametrize("host", ["example.com", "a.b-c.org", "xn--bcher-kva.example", "1a.com"])
def test_host_names_are_not_addresses(host: str) -> None:
    assert parse_host_ip(host) is None


@pytest.mark.parametrize("host", ["1.2.3.4.5", "256.0.0.1", "1.2.3.4294967296", "08.0.0.1", "a.1"])
def test_hosts_ending_in_a_number_must_be_valid_addresses(host: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(repr(host))} is not a valid IPv4 address$"):
        parse_host_ip(host)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.1.1", "private"),
        ("172.20.0.1", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.3.3", "link-local"),
        ("100.100.100.200", "cloud metadata"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("0.1.2.3", "unspecified"),
        ("224.1.1.1", "multicast"),
        ("240.1.1.1", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "unique-local"),
        ("fd00:ec2::254", "cloud metadata"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "documentation"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::10.0.0.1", "private, inside an IPv6 address"),
        ("2002:a00:1::", "private, inside an IPv6 address"),
        ("::10.0.0.1", "private, inside an IPv6 address"),
    ],
)
def test_denied_addresses_name_their_range(address: str, reason: str) -> None:
    assert deny_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "93.184.216.34",
        "1.1.1.1",
        "2606:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
    ],
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert deny_reason(ipaddress.ip_address(address)) is None


def test_allow_networks_open_exactly_the_listed_range() -> None:
    policy = FetchPolicy(allow_networks=("127.0.0.1/32", "10.5.0.0/16"))

    assert policy.address_denied(ipaddress.ip_address("127.0.0.1")) is None
    assert policy.address_denied(ipaddress.ip_address("::ffff:127.0.0.1")) is None
    assert policy.address_denied(ipaddress.ip_address("10.5.9.9")) is None
    assert policy.address_denied(ipaddress.ip_address("127.0.0.2")) == "loopback"
    assert policy.address_denied(ipaddress.ip_address("10.6.0.1")) == "private"
    assert policy.address_denied(ipaddress.ip_address("::1")) == "loopback"


def test_policy_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="'not-a-network' does not appear to be an IPv4 or IPv6"):
        FetchPolicy(allow_networks=("not-a-network",))
    with pytest.raises(ValueError, match="allow_ports"):
        FetchPolicy(allow_ports=(70000,))
    with pytest.raises(ValueError, match="positive"):
        FetchPolicy(max_bytes=0)


def test_check_url_keeps_the_name_and_drops_the_fragment() -> None:
    target = check_url("HTTPS://Example.COM./a/b?q=1#frag", FetchPolicy())

    assert (target.host, target.port, target.ip) == ("example.com", 443, None)
    assert str(target.url) == "https://example.com./a/b?q=1"
    assert target.host_header() == "example.com"
    assert str(target.url_for(ipaddress.ip_address("93.184.216.34"))) == (
        "https://93.184.216.34/a/b?q=1"
    )


def test_check_url_pins_ipv6_with_brackets_and_keeps_the_port_in_host() -> None:
    policy = FetchPolicy(allow_ports=(8080,))
    target = check_url("http://example.com:8080/x", policy)

    assert target.host_header() == "example.com:8080"
    assert str(target.url_for(ipaddress.ip_address("2606:4700::1"))) == (
        "http://[2606:4700::1]:8080/x"
    )


def test_overlong_urls_are_refused() -> None:
    with pytest.raises(FetchDenied, match="longer than"):
        check_url("https://example.com/" + "a" * 3000, FetchPolicy())


def test_socket_guard_refuses_and_records_denied_addresses() -> None:
    policy = FetchPolicy()
    log = ConnectionLog()
    create = guarded_socket_factory(policy, log)
    addr_info = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", 80))

    with pytest.raises(OSError, match="fetch policy"):
        create(addr_info)

    assert log.refused == [("10.0.0.1", 80)]
    assert log.opened == []


def test_socket_guard_opens_allowed_addresses() -> None:
    policy = FetchPolicy(allow_networks=("127.0.0.1/32",), allow_ports=(8123,))
    log = ConnectionLog()
    sock = guarded_socket_factory(policy, log)(
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 8123))
    )
    sock.close()

    assert log.opened == [("127.0.0.1", 8123)]
    assert log.denied_connections(policy) == []


def test_connection_log_keeps_only_the_newest_entries() -> None:
    log = ConnectionLog(max_entries=3)
    for port in range(5):
        log.record(log.opened, "127.0.0.1", port)

    assert log.opened == [("127.0.0.1", 2), ("127.0.0.1", 3), ("127.0.0.1", 4)]
