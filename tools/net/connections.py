"""The fetcher's own aiohttp session: a last check at socket level and a record of connects.

The fetcher always connects to an IP literal it has checked, so aiohttp never resolves a
name. As a second line of defence its own session's connector refuses every name lookup and
checks every socket address again right before the socket is created; :class:`ConnectionLog`
records each attempt, which is how tests prove "0 connections to a denied address".
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from tools.net.policy import FetchPolicy

AddrInfo = tuple[Any, Any, int, str, tuple[Any, ...]]


@dataclass
class ConnectionLog:
    """Every socket the fetcher's own session tried to open.

    Attributes:
        opened: (address, port) of each socket created for a connect.
        refused: (address, port) of each connect the socket-level check refused.
        max_entries: Each list keeps at most this many of the newest entries (a long-lived
            fetcher must not grow without bound).
    """

    opened: list[tuple[str, int]] = field(default_factory=list)
    refused: list[tuple[str, int]] = field(default_factory=list)
    max_entries: int = 10_000

    def record(self, entries: list[tuple[str, int]], host: str, port: int) -> None:
        """Append (host, port) to ``entries`` (``opened`` or ``refused``), dropping the oldest."""
        if len(entries) >= self.max_entries:
            del entries[: len(entries) - self.max_entries + 1]
        entries.append((host, port))

    def denied_connections(self, policy: FetchPolicy) -> list[tuple[str, int]]:
        """The opened sockets ``policy`` would deny (must always be empty)."""
        return [
            (host, port)
            for host, port in self.opened
            if policy.address_denied(ipaddress.ip_address(host)) or not policy.port_allowed(port)
        ]


class RefusingResolver(AbstractResolver):
    """An aiohttp resolver that resolves nothing: the fetcher hands aiohttp checked IPs only."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Always refuses; reaching this means a name slipped past the fetcher's checks."""
        raise OSError(errno.EACCES, f"the safe fetcher does not let aiohttp resolve {host!r}")

    async def close(self) -> None:
        """Nothing to release."""


def guarded_socket_factory(policy: FetchPolicy, log: ConnectionLog) -> Any:
    """A ``socket_factory`` for aiohttp's TCPConnector that checks and records each connect."""

    def create(addr_info: AddrInfo) -> socket.socket:
        family, kind, proto, _name, sockaddr = addr_info
        host, port = str(sockaddr[0]), int(sockaddr[1])
        address = ipaddress.ip_address(host)
        if policy.address_denied(address) is not None or not policy.port_allowed(port):
            log.record(log.refused, host, port)
            raise OSError(errno.EACCES, "connection refused by the fetch policy")
        log.record(log.opened, host, port)
        return socket.socket(family=family, type=kind, proto=proto)

    return create


def make_session(policy: FetchPolicy, log: ConnectionLog) -> aiohttp.ClientSession:
    """A session whose connector resolves nothing and checks every socket address."""
    connector = aiohttp.TCPConnector(
        resolver=RefusingResolver(),
        use_dns_cache=False,
        socket_factory=guarded_socket_factory(policy, log),
        limit=32,
    )
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
        auto_decompress=False,
    )
