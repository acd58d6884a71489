"""FetchPolicy: what the safe fetcher may reach, and its default limits."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from tools.net.addresses import IPAddress, IPNetwork, deny_reason

DEFAULT_PORTS = frozenset({80, 443})
DEFAULT_MAX_BYTES = 1_000_000
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_REDIRECTS = 5
DEFAULT_USER_AGENT = "toolcord-fetcher/0.1 (+https://github.com/toolcord)"


def _as_networks(values: Iterable[str | IPNetwork]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


@dataclass(frozen=True)
class FetchPolicy:
    """Deny-by-default rules of the safe fetcher.

    Args:
        allow_networks: Networks reachable even though they are private, loopback, etc.
            (CIDR strings or networks), e.g. ``("127.0.0.1/32",)`` for a test's fake server.
        allow_ports: Ports allowed besides 80 and 443.
        max_redirects: Redirect hops followed before giving up.
        max_bytes: Default cap on the (decoded) body size.
        timeout_s: Default cap on the whole fetch, redirects included.
        user_agent: The User-Agent header sent.

    Raises:
        ValueError: If a network or port is malformed or a limit is not positive.
    """

    allow_networks: tuple[str | IPNetwork, ...] = ()
    allow_ports: tuple[int, ...] = ()
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout_s: float = DEFAULT_TIMEOUT_S
    user_agent: str = DEFAULT_USER_AGENT
    networks: tuple[IPNetwork, ...] = field(init=False, repr=False)
    """``allow_networks`` parsed."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "networks", _as_networks(self.allow_networks))
        object.__setattr__(self, "allow_ports", tuple(int(p) for p in self.allow_ports))
        if any(not 0 < port < 65536 for port in self.allow_ports):
            raise ValueError(f"FetchPolicy.allow_ports must be 1-65535, got {self.allow_ports}.")
        if self.max_redirects < 0 or self.max_bytes <= 0 or self.timeout_s <= 0:
            raise ValueError(
                "FetchPolicy limits must be positive (max_redirects may be 0); "
                f"got max_redirects={self.max_redirects}, max_bytes={self.max_bytes}, "
                f"timeout_s={self.timeout_s}."
            )

    def port_allowed(self, port: int) -> bool:
        """True for 80, 443 and the explicitly allowed ports."""
        return port in DEFAULT_PORTS or port in self.allow_ports

    def address_denied(self, address: IPAddress) -> str | None:
        """Why ``address`` is refused (a short category), or None when it may be reached."""
        return deny_reason(address, self.networks)

    def ports_text(self) -> str:
        """The allowed ports for messages, e.g. ``"80, 443"``."""
        return ", ".join(str(port) for port in sorted(DEFAULT_PORTS | set(self.allow_ports)))
