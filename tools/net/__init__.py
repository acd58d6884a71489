"""The safe fetcher: HTTP(S) GETs of untrusted URLs that cannot reach private networks.

Shared by every tool that fetches a URL a model or a user chose (search result pages, image
URLs). Not a tool family: it defines no tools.

    async with SafeFetcher(policy=FetchPolicy()) as fetcher:
        page = await fetcher.get(url, accept=("text/html",), max_bytes=500_000, timeout_s=8)
"""

from tools.net.addresses import IPAddress, IPNetwork, deny_reason, parse_host_ip
from tools.net.connections import ConnectionLog
from tools.net.errors import FetchDenied, FetchError, FetchFailed
from tools.net.fetcher import JSON_TYPES, FetchResult, SafeFetcher
from tools.net.policy import FetchPolicy
from tools.net.resolver import Resolver, SystemResolver
from tools.net.urls import Target, check_url

__all__ = [
    "JSON_TYPES",
    "ConnectionLog",
    "FetchDenied",
    "FetchError",
    "FetchFailed",
    "FetchPolicy",
    "FetchResult",
    "IPAddress",
    "IPNetwork",
    "Resolver",
    "SafeFetcher",
    "SystemResolver",
    "Target",
    "check_url",
    "deny_reason",
    "parse_host_ip",
]
