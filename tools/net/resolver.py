"""Name resolution done by the fetcher itself, so every address is checked before any connect."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from tools.net.addresses import IPAddress
from tools.net.errors import FetchDenied, FetchError, FetchFailed
from tools.net.policy import FetchPolicy
from tools.net.urls import Target

DEFAULT_RESOLVE_TIMEOUT_S = 5.0


@runtime_checkable
class Resolver(Protocol):
    """Turns a host name into the addresses to connect to (tests inject a fake)."""

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        """Every address ``host`` resolves to; raise OSError when it does not resolve."""
        ...


class SystemResolver:
    """The operating system's resolver (``getaddrinfo``) with a time limit.

    Args:
        timeout_s: Seconds before a lookup counts as failed.
    """

    def __init__(self, *, timeout_s: float = DEFAULT_RESOLVE_TIMEOUT_S) -> None:
        self._timeout_s = timeout_s

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        """Every address of ``host`` for a TCP connection to ``port``."""
        loop = asyncio.get_running_loop()
        lookup = loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        infos = await asyncio.wait_for(lookup, self._timeout_s)
        found: list[IPAddress] = []
        for _family, _kind, _proto, _name, sockaddr in infos:
            address = _address_of(sockaddr)
            if address not in found:
                found.append(address)
        return found


def _address_of(sockaddr: tuple[object, ...]) -> IPAddress:
    text = str(sockaddr[0])
    scope = sockaddr[3] if len(sockaddr) > 3 else 0
    if scope and "%" not in text:
        text = f"{text}%{scope}"
    return ipaddress.ip_address(text)


async def resolve_checked(
    resolver: Resolver, target: Target, policy: FetchPolicy
) -> tuple[IPAddress, ...]:
    """The addresses to connect to for ``target``, every one of them checked.

    An IP-literal target needs no lookup. A name is refused when ANY of its addresses is in a
    denied range (a public answer mixed with a private one is an attack, not a fallback).

    Raises:
        FetchDenied: If an address is in a denied range (the address itself is only in
            ``detail``, never in the model-facing reason).
        FetchFailed: If the name does not resolve.
    """
    if target.ip is not None:
        return (target.ip,)
    try:
        addresses = list(await resolver.resolve(target.host, target.port))
    except FetchError:
        raise
    except (OSError, TimeoutError, ValueError, UnicodeError) as error:
        raise FetchFailed(
            "the host name could not be resolved", detail=f"{target.host}: {error!r}"
        ) from None
    if not addresses:
        raise FetchFailed("the host name could not be resolved", detail=f"{target.host}: empty")
    for address in addresses:
        reason = policy.address_denied(address)
        if reason is not None:
            raise FetchDenied(
                f"the host name resolves to a blocked address range ({reason}); only public "
                "internet addresses can be fetched",
                detail=f"{target.host} -> {address}",
            )
    return tuple(_unmapped(address) for address in addresses)


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
