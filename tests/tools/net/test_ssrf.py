"""SSRF: URL variants aimed at loopback, private, link-local and metadata addresses are refused.

Every variant runs against a live fake web site on 127.0.0.1: a variant that slipped through
would reach it (or try another address, which the socket-level log and the test network guard
would both see). Each case asserts the refusal AND zero connections to a denied address.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import pytest

from bot.testing.fakes.web import FakeResolver, FakeWeb
from tools.net import ConnectionLog, FetchDenied, FetchError, FetchPolicy, SafeFetcher


def resolver_table() -> dict[str, list[str] | list[list[str]]]:
    """What the test's DNS answers (a fresh copy per fetch: rebinding rounds are consumed)."""
    return {
        "example.com": ["93.184.216.34"],
        "internal.test": ["10.1.2.3"],
        "loop.test": ["127.0.0.1"],
        "mixed.test": ["93.184.216.34", "127.0.0.1"],
        "v6loop.test": ["::1"],
        "mapped.test": ["::ffff:127.0.0.1"],
        "meta.test": ["169.254.169.254"],
        "localhost.attacker.test": ["127.0.0.1"],
        "nat64.test": ["64:ff9b::a9fe:a9fe"],
        "ula.test": ["fd00::1"],
        "cgnat.test": ["100.64.1.1"],
        "allowed.test": ["127.0.0.1"],
        "rebind-first.test": [["10.0.0.5"], ["127.0.0.1"]],
    }


@dataclass(frozen=True)
class Case:
    """A URL that must be refused; ``{port}`` is the fake site's port."""

    name: str
    url: str


DIRECT_CASES = [
    # loopback, in every spelling, aimed at the live fake site's port
    Case("loopback", "http://127.0.0.1:{port}/page"),
    Case("loopback-other", "http://127.0.0.2:{port}/page"),
    Case("short-ipv4", "http://127.1:{port}/page"),
    Case("decimal-ipv4", "http://2130706433:{port}/page"),
    Case("hex-ipv4", "http://0x7f000001:{port}/page"),
    Case("hex-first-part", "http://0x7f.0.0.1:{port}/page"),
    Case("octal-ipv4", "http://0177.0.0.1:{port}/page"),
    Case("octal-padded", "http://0177.0.0.01:{port}/page"),
    Case("octal-whole", "http://017700000001:{port}/page"),
    Case("trailing-dot-ip", "http://127.0.0.1.:{port}/page"),
    Case("ipv6-loopback", "http://[::1]:{port}/page"),
    Case("ipv4-mapped", "http://[::ffff:127.0.0.1]:{port}/page"),
    Case("ipv4-mapped-hex", "http://[::ffff:7f00:1]:{port}/page"),
    Case("ipv4-mapped-long", "http://[0:0:0:0:0:ffff:127.0.0.1]:{port}/page"),
    Case("ipv4-compatible", "http://[::127.0.0.1]:{port}/page"),
    Case("ipv4-translated", "http://[::ffff:0:7f00:1]:{port}/page"),
    Case("nat64-loopback", "http://[64:ff9b::127.0.0.1]:{port}/page"),
    Case("6to4-loopback", "http://[2002:7f00:1::]:{port}/page"),
    Case("localhost", "http://localhost:{port}/page"),
    Case("localhost-upper", "http://LOCALHOST:{port}/page"),
    Case("localhost-dot", "http://localhost.:{port}/page"),
    Case("sub-localhost", "http://foo.localhost:{port}/page"),
    Case("unicode-digits", "http://①②⑦.0.0.1:{port}/page"),
    Case("fullwidth-digits", "http://１２７.０.０.１:{port}/page"),
    Case("unspecified", "http://0.0.0.0:{port}/page"),
    Case("zero", "http://0:{port}/page"),
    Case("ipv6-unspecified", "http://[::]:{port}/page"),
    # private, link-local, metadata, unique-local, CGNAT, multicast, reserved
    Case("private-10", "http://10.0.0.1/"),
    Case("private-172", "http://172.16.0.1/"),
    Case("private-172-top", "http://172.31.255.255/"),
    Case("private-192", "http://192.168.1.1/"),
    Case("private-mapped", "http://[::ffff:192.168.1.1]/"),
    Case("private-hex", "http://0xc0a80101/"),
    Case("private-decimal", "http://3232235777/"),
    Case("metadata", "http://169.254.169.254/latest/meta-data/"),
    Case("link-local", "http://169.254.1.1/"),
    Case("ipv6-link-local", "http://[fe80::1]/"),
    Case("metadata-ipv6", "http://[fd00:ec2::254]/latest/meta-data/"),
    Case("metadata-name", "http://metadata.google.internal/computeMetadata/v1/"),
    Case("metadata-mapped", "http://[::ffff:169.254.169.254]/"),
    Case("metadata-hex", "http://0xa9fea9fe/"),
    Case("metadata-azure", "http://168.63.129.16/"),
    Case("ula", "http://[fc00::1]/"),
    Case("ula-fd", "http://[fd12:3456::1]/"),
    Case("cgnat", "http://100.64.0.1/"),
    Case("multicast", "http://224.0.0.1/"),
    Case("ipv6-multicast", "http://[ff02::1]/"),
    Case("reserved", "http://240.0.0.1/"),
    Case("broadcast", "http://255.255.255.255/"),
    Case("benchmarking", "http://198.18.0.1/"),
    Case("documentation", "http://192.0.2.1/"),
    # user-info tricks
    Case("userinfo-loopback", "http://evil@127.0.0.1:{port}/page"),
    Case("credentials", "http://user:pass@example.com/"),
    Case("userinfo-host-lookalike", "http://127.0.0.1:{port}@example.com/"),
    Case("userinfo-domain-lookalike", "http://example.com@127.0.0.1:{port}/page"),
    Case("empty-userinfo", "http://:@127.0.0.1:{port}/page"),
    Case("empty-user", "http://@127.0.0.1:{port}/page"),
    # schemes other than http(s)
    Case("file", "file:///etc/passwd"),
    Case("ftp", "ftp://example.com/"),
    Case("gopher", "gopher://127.0.0.1:{port}/_GET%20/page"),
    Case("data", "data:text/html,hello"),
    Case("javascript", "javascript:alert(1)"),
    Case("dict", "dict://127.0.0.1:11211/"),
    Case("websocket", "ws://example.com/"),
    Case("scheme-relative", "//example.com/"),
    # ports and malformed hosts
    Case("ssh-port", "http://example.com:22/"),
    Case("redis-port", "http://example.com:6379/"),
    Case("five-part-ipv4", "http://1.2.3.4.5/"),
    Case("out-of-range-ipv4", "http://256.1.1.1/"),
    Case("percent-host", "http://%31%32%37.0.0.1:{port}/page"),
    Case("scoped-ipv6", "http://[fe80::1%25eth0]/"),
    Case("space", "http://127.0.0.1 :{port}/page"),
    Case("backslash", "http://example.com\\@127.0.0.1:{port}/page"),
    Case("newline", "http://127.0.0.1:{port}/page\n"),
    # host names whose DNS answers are private (the test's fake resolver)
    Case("name-to-private", "http://internal.test/"),
    Case("name-to-loopback", "http://loop.test:{port}/page"),
    Case("name-to-mixed", "http://mixed.test:{port}/page"),
    Case("name-to-ipv6-loopback", "http://v6loop.test:{port}/page"),
    Case("name-to-mapped", "http://mapped.test:{port}/page"),
    Case("name-to-metadata", "http://meta.test/latest/meta-data/"),
    Case("localhost-dot-attacker", "http://localhost.attacker.test:{port}/page"),
    Case("name-to-nat64-metadata", "http://nat64.test/"),
    Case("name-to-ula", "http://ula.test/"),
    Case("name-to-cgnat", "http://cgnat.test/"),
    Case("rebinding-private-first", "http://rebind-first.test:{port}/page"),
]

REDIRECT_CASES = [
    # an allowed host (the fake site, standing in for a public server) redirects to these
    Case("to-private", "http://10.0.0.1/"),
    Case("to-metadata", "http://169.254.169.254/latest/meta-data/"),
    Case("to-ipv6-loopback", "http://[::1]:{port}/page"),
    Case("to-hex-private", "http://0x0a000001/"),
    Case("to-other-loopback", "http://127.0.0.2:{port}/page"),
    Case("to-decimal-loopback", "http://2130706434:{port}/page"),
    Case("to-mapped-private", "http://[::ffff:10.0.0.1]/"),
    Case("to-file", "file:///etc/passwd"),
    Case("to-gopher", "gopher://allowed.test:{port}/_x"),
    Case("to-name-to-private", "http://internal.test/"),
    Case("to-name-to-metadata", "http://meta.test/"),
    Case("to-userinfo", "http://evil@allowed.test:{port}/page"),
    Case("to-bad-port", "http://allowed.test:22/"),
    Case("to-localhost", "http://localhost:{port}/page"),
    Case("to-name-to-ula", "http://ula.test/"),
    Case("to-name-to-mapped-loopback", "http://v6loop.test:{port}/page"),
]


async def fetch_denied(url: str, policy: FetchPolicy) -> tuple[FetchError | None, ConnectionLog]:
    """Fetch ``url``; the error raised (None if it succeeded) and the connection log."""
    log = ConnectionLog()
    fetcher = SafeFetcher(policy=policy, resolver=FakeResolver(resolver_table()), connections=log)
    async with fetcher:
        try:
            await fetcher.get(url, accept=("*/*",), timeout_s=5)
        except FetchError as error:
            return error, log
    return None, log


def redirect_url(site: FakeWeb, case: Case) -> str:
    location = quote(case.url.format(port=site.port), safe="")
    return site.url(f"/redirect-to?location={location}", host="allowed.test")


@pytest.mark.parametrize("case", DIRECT_CASES, ids=lambda case: case.name)
async def test_direct_url_is_refused_without_connecting(
    case: Case, fake_web: FakeWeb, port_only_policy: FetchPolicy
) -> None:
    error, log = await fetch_denied(case.url.format(port=fake_web.port), port_only_policy)

    assert isinstance(error, FetchDenied), f"{case.name}: {error!r}"
    assert log.opened == []
    assert fake_web.requests == []


@pytest.mark.parametrize("case", REDIRECT_CASES, ids=lambda case: case.name)
async def test_redirect_to_denied_target_is_refused(
    case: Case, fake_web: FakeWeb, loopback_policy: FetchPolicy
) -> None:
    error, log = await fetch_denied(redirect_url(fake_web, case), loopback_policy)

    assert isinstance(error, FetchDenied), f"{case.name}: {error!r}"
    assert log.denied_connections(loopback_policy) == []
    assert set(log.opened) == {("127.0.0.1", fake_web.port)}
    assert [request.path for request in fake_web.requests] == ["/redirect-to"]


async def test_every_variant_refused_and_no_denied_connection(
    fake_web: FakeWeb, port_only_policy: FetchPolicy, loopback_policy: FetchPolicy
) -> None:
    refused = 0
    denied_connections = 0
    for case in DIRECT_CASES:
        error, log = await fetch_denied(case.url.format(port=fake_web.port), port_only_policy)
        refused += isinstance(error, FetchDenied)
        denied_connections += len(log.opened)
    for case in REDIRECT_CASES:
        error, log = await fetch_denied(redirect_url(fake_web, case), loopback_policy)
        refused += isinstance(error, FetchDenied)
        denied_connections += len(log.denied_connections(loopback_policy))
    total = len(DIRECT_CASES) + len(REDIRECT_CASES)
    print(
        f"\nSSRF: {refused}/{total} URL variants refused; "
        f"{denied_connections} connections to a denied address"
    )

    assert total >= 50
    assert refused == total
    assert denied_connections == 0
    assert all(request.path == "/redirect-to" for request in fake_web.requests)


async def test_address_is_pinned_between_check_and_connect(
    fake_web: FakeWeb, loopback_policy: FetchPolicy
) -> None:
    # A second lookup would answer a private address; the fetcher must never make it.
    resolver = FakeResolver({"pinned.test": [["127.0.0.1"], ["10.9.9.9"]]})
    log = ConnectionLog()
    async with SafeFetcher(policy=loopback_policy, resolver=resolver, connections=log) as fetcher:
        page = await fetcher.get(fake_web.url("/page", host="pinned.test"), accept=("text/html",))

    assert page.status == 200
    assert resolver.lookups == ["pinned.test"]
    assert log.opened == [("127.0.0.1", fake_web.port)]
    assert fake_web.requests[0].host_header == f"pinned.test:{fake_web.port}"


async def test_rebinding_on_a_redirect_hop_is_refused(
    fake_web: FakeWeb, loopback_policy: FetchPolicy
) -> None:
    resolver = FakeResolver({"rebind.test": [["127.0.0.1"], ["10.0.0.5"]]})
    log = ConnectionLog()
    target = quote(fake_web.url("/page", host="rebind.test"), safe="")
    url = fake_web.url(f"/redirect-to?location={target}", host="rebind.test")
    async with SafeFetcher(policy=loopback_policy, resolver=resolver, connections=log) as fetcher:
        with pytest.raises(FetchDenied, match="resolves to a blocked address range"):
            await fetcher.get(url, accept=("text/html",))

    assert resolver.lookups == ["rebind.test", "rebind.test"]
    assert log.opened == [("127.0.0.1", fake_web.port)]
    assert fake_web.requests_to("/page") == []


async def test_refusal_reason_does_not_reveal_the_resolved_address(
    port_only_policy: FetchPolicy,
) -> None:
    error, _log = await fetch_denied("http://internal.test/", port_only_policy)

    assert isinstance(error, FetchDenied)
    assert "10.1.2.3" not in error.reason
    assert "private" in error.reason
    assert "10.1.2.3" in error.detail
