"""A guard that refuses and records every connection to a host other than loopback.

Installed for the whole test session by the pytest plugin (and in bot subprocesses the tests start,
through ``TOOLCORD_NETGUARD=1``): it wraps ``socket.socket.connect``/``connect_ex`` and
``socket.getaddrinfo``, which every client here (aiohttp, httpx2, asyncpg, ...) goes through. A test
whose process tried to leave the machine fails, naming the address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", ""})


class NetworkAccessDenied(ConnectionRefusedError):
    """A test tried to reach a host other than loopback."""


def is_loopback_host(host: object) -> bool:
    """True for 127.0.0.0/8, ::1, localhost, and unix socket paths."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback or address.is_unspecified


@dataclass
class NetGuard:
    """Installs and removes the guard; ``violations`` lists every refused attempt."""

    violations: list[str] = field(default_factory=list)
    _saved: dict[str, Callable[..., Any]] = field(default_factory=dict)

    def install(self) -> None:
        if self._saved:
            return
        self._saved = {
            "connect": socket.socket.connect,
            "connect_ex": socket.socket.connect_ex,
            "getaddrinfo": socket.getaddrinfo,
        }
        socket.socket.connect = self._wrap_connect(self._saved["connect"])  # type: ignore[method-assign]
        socket.socket.connect_ex = self._wrap_connect(self._saved["connect_ex"])  # type: ignore[method-assign]
        socket.getaddrinfo = self._wrap_getaddrinfo(self._saved["getaddrinfo"])

    def uninstall(self) -> None:
        if not self._saved:
            return
        socket.socket.connect = self._saved["connect"]  # type: ignore[method-assign]
        socket.socket.connect_ex = self._saved["connect_ex"]  # type: ignore[method-assign]
        socket.getaddrinfo = self._saved["getaddrinfo"]
        self._saved = {}

    def take_violations(self) -> list[str]:
        taken, self.violations = self.violations, []
        return taken

    def _refuse(self, what: str) -> NetworkAccessDenied:
        self.violations.append(what)
        return NetworkAccessDenied(f"toolcord test guard: no network beyond loopback ({what})")

    def _wrap_connect(self, original: Callable[..., Any]) -> Callable[..., Any]:
        guard = self

        def connect(sock: socket.socket, address: Any, *args: Any) -> Any:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                host = address[0] if isinstance(address, tuple) else address
                if not is_loopback_host(host):
                    raise guard._refuse(f"connect to {host}")
            return original(sock, address, *args)

        return connect

    def _wrap_getaddrinfo(self, original: Callable[..., Any]) -> Callable[..., Any]:
        guard = self

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if not is_loopback_host(host):
                raise socket.gaierror(socket.EAI_NONAME, str(guard._refuse(f"resolve {host}")))
            return original(host, *args, **kwargs)

        return getaddrinfo
