"""Checking a URL against the fetch policy before anything is resolved or connected."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from yarl import URL

from tools.net.addresses import IPAddress, parse_host_ip
from tools.net.errors import FetchDenied
from tools.net.policy import FetchPolicy

MAX_URL_CHARS = 2048
ALLOWED_SCHEMES = frozenset({"http", "https"})
RESERVED_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
"""Host names refused outright: they name this machine."""
RESERVED_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".localdomain")
"""Name suffixes refused outright: they only exist on local networks (mDNS, cloud-internal)."""
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class Target:
    """A URL that passed the policy's URL checks (not yet its address checks).

    Attributes:
        url: The URL without its fragment.
        host: Lower-case ASCII host name without a trailing dot, or the canonical IP text.
        port: The port to connect to.
        ip: The address when the host is an IP literal (in any spelling), else None.
    """

    url: URL
    host: str
    port: int
    ip: IPAddress | None

    @property
    def is_https(self) -> bool:
        """True for https URLs."""
        return self.url.scheme == "https"

    @property
    def origin(self) -> tuple[str, str, int]:
        """(scheme, host, port): headers given by the caller stay within one origin."""
        return (self.url.scheme, self.host, self.port)

    def host_header(self) -> str:
        """The Host header: the host, bracketed for IPv6, with the port unless it is default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.is_https else 80
        return host if self.port == default else f"{host}:{self.port}"

    def url_for(self, address: IPAddress) -> URL:
        """This URL with its host replaced by ``address``: connecting to it pins the address."""
        host = f"[{address}]" if address.version == 6 else str(address)
        return URL.build(
            scheme=self.url.scheme,
            host=host,
            port=self.port,
            path=self.url.raw_path,
            query_string=self.url.raw_query_string,
            encoded=True,
        )


def check_url(url: str | URL, policy: FetchPolicy) -> Target:
    """Parse ``url`` and apply the policy's URL rules.

    Rules: http(s) only, absolute, no user name or password, an allowed port, no reserved host
    names, and IP literals (in any spelling) outside the denied ranges.

    Raises:
        FetchDenied: Naming the rule the URL broke.
    """
    parsed = _parse(url)
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise FetchDenied("only http:// and https:// addresses can be fetched")
    if not parsed.absolute or not parsed.raw_host:
        raise FetchDenied("the address must be absolute, like https://example.com/page")
    if parsed.raw_user is not None or parsed.raw_password is not None:
        raise FetchDenied("addresses with a user name or password in them are not allowed")
    port = parsed.port
    if port is None or not policy.port_allowed(port):
        raise FetchDenied(f"port {port} is not allowed (allowed ports: {policy.ports_text()})")
    host, ip = _check_host(parsed.raw_host or "", policy)
    return Target(url=parsed.with_fragment(None), host=host, port=port, ip=ip)


def _parse(url: str | URL) -> URL:
    text = str(url)
    if len(text) > MAX_URL_CHARS:
        raise FetchDenied(f"the address is longer than {MAX_URL_CHARS} characters")
    if _UNSAFE_CHARS.search(text):
        raise FetchDenied("the address contains spaces, control characters or backslashes")
    authority = text.partition("//")[2]
    for stop in "/?#":
        authority = authority.partition(stop)[0]
    if "@" in authority:
        raise FetchDenied("addresses with a user name or password in them are not allowed")
    try:
        parsed = url if isinstance(url, URL) else URL(text)
    except (ValueError, TypeError):
        raise FetchDenied("that is not a valid web address") from None
    return parsed


def _check_host(raw_host: str, policy: FetchPolicy) -> tuple[str, IPAddress | None]:
    if "%" in raw_host:
        raise FetchDenied("percent-encoded or interface-scoped hosts are not allowed")
    host = raw_host.lower().rstrip(".") if ":" not in raw_host else raw_host.lower()
    try:
        ip = parse_host_ip(host)
    except ValueError:
        raise FetchDenied("the host looks like a number but is not a valid IP address") from None
    if ip is not None:
        reason = policy.address_denied(ip)
        if reason is not None:
            raise FetchDenied(address_message(reason), detail=f"literal {ip}")
        ip = _unmapped(ip)
        return str(ip), ip
    _check_name(host)
    return host, None


def _check_name(host: str) -> None:
    if len(host) > 253 or not all(_LABEL.match(label) for label in host.split(".")):
        raise FetchDenied("that host name is not valid")
    if host in RESERVED_NAMES or host.endswith(RESERVED_SUFFIXES):
        raise FetchDenied("that host name points at this machine or a local network")


def _unmapped(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def address_message(reason: str) -> str:
    """The model-safe sentence for an address refused for ``reason``."""
    return (
        f"the address belongs to a blocked range ({reason}); only public internet addresses "
        "can be fetched"
    )
