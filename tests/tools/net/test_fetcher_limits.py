"""The safe fetcher against the hostile fake web: caps, content types, redirects, sessions."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

import aiohttp
import pytest

from bot.testing.fakes.web import FakeResolver, FakeWeb
from tools.net import ConnectionLog, FetchDenied, FetchFailed, FetchPolicy, SafeFetcher
from tools.net.fetcher import media_type_accepted, parse_content_type

HTML = ("text/html",)


def fetcher_for(policy: FetchPolicy, log: ConnectionLog | None = None) -> SafeFetcher:
    resolver = FakeResolver({"site.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    return SafeFetcher(policy=policy, resolver=resolver, connections=log)


async def test_allowed_loopback_fake_works_when_explicitly_allowed(
    fake_web: FakeWeb, loopback_policy: FetchPolicy
) -> None:
    log = ConnectionLog()
    async with fetcher_for(loopback_policy, log) as fetcher:
        page = await fetcher.get(fake_web.url("/page", host="site.test"), accept=HTML)

    assert page.status == 200
    assert page.content_type == "text/html"
    assert page.charset == "utf-8"
    assert "Hello from the fake web" in page.text()
    assert not page.truncated
    assert page.final_url == fake_web.url("/page", host="site.test")
    assert log.opened == [("127.0.0.1", fake_web.port)]
    assert fake_web.requests[0].host_header == f"site.test:{fake_web.port}"


async def test_the_same_fake_is_refused_under_the_default_policy(fake_web: FakeWeb) -> None:
    async with fetcher_for(FetchPolicy(allow_ports=(fake_web.port,))) as fetcher:
        with pytest.raises(FetchDenied, match="loopback"):
            await fetcher.get(fake_web.url("/page"), accept=HTML)

    assert fake_web.requests == []


async def test_get_json_parses_and_refuses_bad_json(
    fake_web: FakeWeb, loopback_policy: FetchPolicy
) -> None:
    async with fetcher_for(loopback_policy) as fetcher:
        data = await fetcher.get_json(fake_web.url("/json"))
        with pytest.raises(FetchFailed, match="not valid JSON"):
            await fetcher.get_json(fake_web.url("/bad-json"))

    assert data == {"ok": True, "items": [1, 2, 3]}


async def test_gzip_body_is_inflated(fake_web: FakeWeb, loopback_policy: FetchPolicy) -> None:
    async with fetcher_for(loopback_policy) as fetcher:
        page = await fetcher.get(fake_web.url("/gzip"), accept=HTML)

    assert "Hello from the fake web" in page.text()
    assert fake_web.requests[0].headers["Accept-Encoding"] == "gzip, deflate"


async def test_huge_page_is_cut_at_the_size_cap(
    fake_web: FakeWeb, loopback_policy: FetchPolicy
) -> None:
    async with fetcher_for(loopback_policy) as fetcher:
        page = await fetcher.get(fake_web.url("/huge"), accept=HTML, max_bytes=100_000)

    assert page.truncated
    assert len(page.body) == 100_000


async def test_endless_page_is_cut_at_the_size_cap(
    fake_web: FakeWeb, loopback_policy: FetchPolicy
) -> None:
    async with fetcher_for(loopback_policy) as fetcher:
        page = await asyncio.wait_for(
            fetcher.get(fake_web.url("/endless"), accept=HTML, max_bytes=200_000), 10
        )

    assert page.truncated
    assert len(page.body) == 200_000


async def test_gzip_bomb_is_inflated_only_up_to_the_cap(
    fake_web: FakeWeb, loopback_policy: FetchPolicy
) -> None:
    async with fetcher_for(loopback_policy) as fetcher:
        page = await fetcher.get(fake_web.url("/gzip-bomb"), accept=HTML, max_bytes=50_000)

    assert page.truncated
    assert len(page.body) == 50_000


async def test_json_larger_than_the_cap_is_an_error(
    fake_web: FakeWeb, loopback_policy: FetchPolicy
) -> None:
    fake_web.add_page("/big.json", b"[" + b"1," * 50_000 + b"1]", "application/json")
    async with fetcher_for(loopback_policy) as fetcher:
        with pytest.raises(FetchFailed, match="larger than"):
            await fetcher.get_json(fake_web.url("/big.json"), max_bytes=10_000)


@pytest.mark.parametrize("path", ["/slow?delay=30", "/trickle?interval=0.05"])
async def test_slow_pages_hit_the_time_cap(
    path: str, fake_web: FakeWeb, loopback_policy: FetchPolicy
) -> None:
    started = time.monotonic()
    async with fetcher_for(loopback_policy) as fetcher:
        with pytest.raises(FetchFailed, match=r"within 0\.3 s"):
            await fetcher.get(fake_web.url(path), accept=HTML, timeout_s=0.3)

    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("path", "accept"),
    [("/wrong-type", HTML), ("/json", HTML), ("/page", ("application/json",))],
)
async def test_unaccepted_content_type_is_refused(
    path: str, accept: tuple[str, ...], fake_web: FakeWeb, loopback_policy: FetchPolicy
) -> None:
    async with fetcher_for(loopback_policy) as fetcher:
        with pytest.raises(FetchFailed, match="not one of"):
            await fetcher.get(fake_web.url(path), accept=accept)


def test_content_type_matching() -> None:
    assert parse_content_type('Text/HTML; Charset="UTF-8"') == ("text/html", "utf-8")
    assert media_type_accepted("text/plain", ("text/*",))
    assert media_type_accepted("application/ld+json", ("application/*+json",))
    assert not media_type_accepted("", ("text/html",))
    assert media_type_accepted("", ("*/*",))


@pytest.mark.parametrize("status", [404, 500])
async def test_http_errors_carry_the_status(
    status: int, fake_web: FakeWeb, loopback_policy: FetchPolicy
) -> None:
    async with fetcher_for(loopback_policy) as fetcher:
        with pytest.raises(FetchFailed) as caught:
            await fetcher.get(fake_web.url(f"/status/{status}"), accept=HTML)

    assert caught.value.status == status


async def test_redirect_chain_within_the_limit_is_followed(
    fake_web: FakeWeb, loopback_policy: FetchPolicy
) -> None:
    async with fetcher_for(loopback_policy) as fetcher:
        page = await fetcher.get(fake_web.url("/redirect/5"), accept=HTML)

    assert page.final_url == fake_web.url("/page")
    assert page.url == fake_web.url("/redirect/5")
    assert len(fake_web.requests) == 6


async def test_too_many_redirects_fail(fake_web: FakeWeb, loopback_policy: FetchPolicy) -> None:
    async with fetcher_for(loopback_policy) as fetcher:
        with pytest.raises(FetchFailed, match="more than 5 times"):
            await fetcher.get(fake_web.url("/redirect/6"), accept=HTML)

    assert fake_web.requests_to("/page") == []


async def test_caller_headers_do_not_follow_a_cross_origin_redirect(
    fake_web: FakeWeb, loopback_policy: FetchPolicy
) -> None:
    target = quote(fake_web.url("/page", host="other.test"), safe="")
    url = fake_web.url(f"/redirect-to?location={target}", host="site.test")
    headers = {"X-Api-Key": "secret-canary", "Accept-Language": "fr"}
    async with fetcher_for(loopback_policy) as fetcher:
        await fetcher.get(url, accept=HTML, headers=headers)

    first, second = fake_web.requests
    assert first.headers.get("X-Api-Key") == "secret-canary"
    assert "X-Api-Key" not in second.headers
    assert second.headers.get("Accept-Language") == "fr"
    assert second.host_header == f"other.test:{fake_web.port}"


async def test_unresolvable_name_fails(loopback_policy: FetchPolicy) -> None:
    async with fetcher_for(loopback_policy) as fetcher:
        with pytest.raises(FetchFailed, match="could not be resolved"):
            await fetcher.get("http://nowhere.test/", accept=HTML)


async def test_shared_session_still_connects_to_the_checked_address(
    fake_web: FakeWeb, loopback_policy: FetchPolicy
) -> None:
    resolver = FakeResolver({"site.test": [["127.0.0.1"], ["10.0.0.9"]]})
    async with aiohttp.ClientSession() as session:
        fetcher = SafeFetcher(session, policy=loopback_policy, resolver=resolver)
        page = await fetcher.get(fake_web.url("/page", host="site.test"), accept=HTML)
        await fetcher.close()
        assert not session.closed

    assert page.status == 200
    assert resolver.lookups == ["site.test"]
    assert fake_web.requests[0].host_header == f"site.test:{fake_web.port}"


async def test_unreachable_port_fails_cleanly() -> None:
    policy = FetchPolicy(allow_networks=("127.0.0.1/32",), allow_ports=(9,))
    async with fetcher_for(policy) as fetcher:
        with pytest.raises(FetchFailed, match="could not be reached"):
            await fetcher.get("http://127.0.0.1:9/", accept=HTML)
