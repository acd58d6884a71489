"""Issue 16, finding 1: page text extraction is bounded whatever the markup."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.testing.fakes.web import FakeWeb
from tests.reliability.hostile_pages import SHAPES, hostile_pages, read_concurrently
from tools import ToolContext
from tools.deps import ToolDeps
from tools.search import fetch_page, html_text
from tools.search.html_text import html_to_text


def test_open_tag_storm_is_not_quadratic() -> None:
    """html.parser took ~10 s on these 39 KB; a linear parser takes milliseconds."""
    started = time.perf_counter()
    page = html_to_text("<a " * 13_000, max_chars=8_000)

    assert time.perf_counter() - started < 1.0
    assert page.text == ""


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_hostile_shape_at_the_page_cap_parses_in_bounded_time(shape: str) -> None:
    markup = hostile_pages(1_000_000)[shape]
    started = time.perf_counter()
    page = html_to_text(markup, max_chars=8_000)

    assert time.perf_counter() - started < 2.0
    assert len(page.text) <= 8_001


def test_markup_beyond_the_parse_cap_is_not_parsed() -> None:
    markup = "<p>" + "a" * html_text.MAX_PARSE_CHARS + "</p><p>TAIL-MARKER</p>"

    page = html_to_text(markup, max_chars=15_000)

    assert page.truncated
    assert "TAIL-MARKER" not in page.text


async def test_getaddrinfo_stays_fast_while_hostile_pages_are_read() -> None:
    """Parsing never runs on the loop's default executor, which getaddrinfo needs."""
    async with FakeWeb() as site:
        site.add_page("/storm", "<a " * 10_000)
        figures = await read_concurrently(site, ["/storm"], copies=8)

    assert figures["failed_fetches"] == 0, figures
    assert figures["lookups"] >= 1
    assert figures["worst_getaddrinfo_ms"] < 1_000, figures


async def test_fetch_page_needs_no_default_executor_thread() -> None:
    """With the default executor's only thread held, a page is still read (lookups aside)."""
    loop = asyncio.get_running_loop()
    default = ThreadPoolExecutor(max_workers=1)
    loop.set_default_executor(default)
    release = threading.Event()
    holder = loop.run_in_executor(None, release.wait, 30)
    try:
        async with FakeWeb() as site:
            site.add_page("/page", "<title>T</title><p>readable</p>")
            ctx = ToolContext(
                user_id=1, user_name="u", channel_id=2, guild_id=3,
                config={"fetch_allow_networks": ["127.0.0.1/32"], "fetch_allow_ports": [site.port]},
            )  # fmt: skip
            output = await asyncio.wait_for(fetch_page(ctx, url=site.url("/page")), 10)
    finally:
        release.set()
        await holder
    assert "readable" in output


def _threads_extracting() -> int:
    """Threads whose stack is inside html_to_text right now."""
    count = 0
    for frame in sys._current_frames().values():
        stack = traceback.extract_stack(frame)
        count += any(entry.name == "html_to_text" for entry in stack)
    return count


async def test_the_bot_wide_slots_bound_pages_extracted_at_once() -> None:
    seen: list[int] = []
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            seen.append(_threads_extracting())
            await asyncio.sleep(0.001)

    async with FakeWeb() as site:
        site.add_page("/storm", "<p>" + "<a " * 600_000)
        config = {"fetch_allow_networks": ["127.0.0.1/32"], "fetch_allow_ports": [site.port]}
        ctx = ToolContext(
            user_id=1, user_name="u", channel_id=2, guild_id=3, config=config,
            deps=ToolDeps(page_text_slots=asyncio.Semaphore(1)),
        )  # fmt: skip
        sampler = asyncio.create_task(sample())
        await asyncio.gather(*(fetch_page(ctx, url=site.url("/storm")) for _ in range(6)))
        stop.set()
        await sampler

    assert max(seen) == 1, "one slot: never two pages extracted at once"
