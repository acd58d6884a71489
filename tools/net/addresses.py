"""Which IP addresses the safe fetcher refuses, and how odd host spellings are read.

Deny by default: an address is allowed only when it is globally routable and in none of the
ranges below, or when the fetch policy allows its network explicitly. IPv6 forms that carry an
IPv4 address (mapped, compatible, translated, NAT64, 6to4) are judged by that IPv4 address too.
Hosts are read the way browsers read them (WHATWG URL rules), so ``2130706433``, ``0x7f000001``,
``0177.0.0.1`` and ``127.1`` all mean 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(cidr), label) for cidr, label in pairs)


# Most specific first: the first match names the reason.
DENIED_IPV4 = _networks(
    (
        ("169.254.169.254/32", "cloud metadata"),
        ("168.63.129.16/32", "cloud metadata"),
        ("100.100.100.200/32", "cloud metadata"),
        ("0.0.0.0/8", "unspecified"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
    )
)
DENIED_IPV6 = _networks(
    (
        ("fd00:ec2::254/128", "cloud metadata"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("64:ff9b:1::/48", "local NAT64"),
        ("100::/64", "discard-only"),
        ("2001::/23", "IETF protocol assignments"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing"),
        ("fc00::/7", "unique-local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NUMBER = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)$")
_HEX = re.compile(r"^0[xX][0-9a-fA-F]*$")
_OCTAL = re.compile(r"^0[0-7]+$")
_DECIMAL = re.compile(r"^(?:0|[1-9][0-9]*)$")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, translated, NAT64, 6to4)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    carriers = (_IPV4_COMPATIBLE, _IPV4_TRANSLATED, _NAT64)
    if int(address) > 1 and any(address in network for network in carriers):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def deny_reason(address: IPAddress, allowed: Iterable[IPNetwork] = ()) -> str | None:
    """Why ``address`` must not be connected to (e.g. ``"loopback"``), or None if it may.

    Args:
        address: The address to judge.
        allowed: Networks the bot owner allowed explicitly (checked first).
    """
    allowed = tuple(allowed)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if _is_allowed(address, allowed):
        return None
    if isinstance(address, ipaddress.IPv4Address):
        return _listed_reason(address, DENIED_IPV4) or _not_global(address)
    if address.scope_id:
        return "scoped (interface-bound)"
    inner = embedded_ipv4(address)
    if inner is not None:
        inner_reason = deny_reason(inner, allowed)
        if inner_reason is not None:
            return f"{inner_reason}, inside an IPv6 address"
    return _listed_reason(address, DENIED_IPV6) or _not_global(address)


def _is_allowed(address: IPAddress, allowed: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == network.version and address in network for network in allowed)


def _listed_reason(address: IPAddress, table: tuple[tuple[IPNetwork, str], ...]) -> str | None:
    for network, label in table:
        if address in network:
            return label
    return None


def _not_global(address: IPAddress) -> str | None:
    return None if address.is_global else "not publicly routable"


def parse_host_ip(host: str) -> IPAddress | None:
    """The IP address ``host`` spells, or None when it is a host name.

    Accepts IPv6 (with or without brackets) and every IPv4 spelling browsers accept: dotted
    quads, fewer parts (``127.1``), and decimal, hex (``0x7f``) or octal (``0177``) parts.

    Raises:
        ValueError: If the host ends in a number but is not a valid address (e.g.
            ``1.2.3.4.5`` or ``999.1.1.1``): such hosts are ambiguous and refused.
    """
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        return ipaddress.IPv6Address(text)
    parts = text.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not _NUMBER.match(parts[-1]):
        return None
    if len(parts) > 4 or any(part == "" for part in parts):
        raise ValueError(f"{host!r} is not a valid IPv4 address")
    return _ipv4_from_parts([_ipv4_number(part, host) for part in parts], host)


def _ipv4_number(part: str, host: str) -> int:
    if _HEX.match(part):
        return int(part[2:] or "0", 16)
    if _OCTAL.match(part):
        return int(part, 8)
    if _DECIMAL.match(part):
        return int(part)
    raise ValueError(f"{host!r} is not a valid IPv4 address")


def _ipv4_from_parts(numbers: list[int], host: str) -> ipaddress.IPv4Address:
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (4 - len(leading)):
        raise ValueError(f"{host!r} is not a valid IPv4 address")
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)
