"""SSRF (catalogue T3): the safe fetcher's URL variants, counted the way its own test counts them.

The variants and the fetch helper come from ``tests/tools/net/test_ssrf.py`` (one list, two
users): each direct variant is fetched with a policy that allows the fake site's port, so only
the address check can stop it; each redirect variant is served by an allowed host that
redirects to the denied target. Every variant must be refused with no connection to a denied
address, and the fake site must see nothing but the redirect requests.
"""

from __future__ import annotations

from typing import Any

from bot.testing.fakes.web import FakeWeb
from tests.tools.net.test_ssrf import DIRECT_CASES, REDIRECT_CASES, fetch_denied, redirect_url
from tools.net import FetchDenied, FetchPolicy


async def run_ssrf() -> dict[str, Any]:
    """Fetch every variant and count refusals and connections to denied addresses."""
    refused = connections = 0
    async with FakeWeb() as site:
        port_only = FetchPolicy(allow_ports=(site.port,))
        loopback = FetchPolicy(allow_networks=("127.0.0.1/32",), allow_ports=(site.port,))
        for case in DIRECT_CASES:
            error, log = await fetch_denied(case.url.format(port=site.port), port_only)
            refused += isinstance(error, FetchDenied)
            connections += len(log.opened)
        for case in REDIRECT_CASES:
            error, log = await fetch_denied(redirect_url(site, case), loopback)
            refused += isinstance(error, FetchDenied)
            connections += len(log.denied_connections(loopback))
        stray = [r for r in site.requests if r.path != "/redirect-to"]
    return {
        "variants": len(DIRECT_CASES) + len(REDIRECT_CASES),
        "refused": refused,
        "connections_to_denied_addresses": connections,
        "requests_reaching_the_site": len(stray),
    }


def ssrf_ok(figures: dict[str, Any]) -> bool:
    """The gate: every variant refused, no connection, nothing reached the site."""
    return (
        figures["refused"] == figures["variants"]
        and figures["connections_to_denied_addresses"] == 0
        and figures["requests_reaching_the_site"] == 0
    )
