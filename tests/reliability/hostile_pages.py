"""Hostile pages (issue 16, finding 1): markup that makes naive HTML parsers quadratic or deep.

Each page is served by the loopback fake web and read with ``fetch_page`` several at a time,
while the event loop's ``getaddrinfo`` (the lookup discord.py, aiohttp and the fetcher share)
is timed. The pages are read the way the bot reads them: with the bot-wide
limit on pages extracted at once that its wiring gives ``fetch_page``. The figures: how many
pages were read, the worst time one page's text extraction
took on its own, and the worst ``getaddrinfo`` latency while the pages were being read.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any

from bot.testing.fakes.web import FakeWeb
from tools import ToolContext
from tools.deps import ToolDeps
from tools.search import fetch_page
from tools.search.html_text import html_to_text
from tools.search.tool import PAGE_TEXT_WORKERS

PAGE_SECONDS_BUDGET = 2.0
LOOKUP_SECONDS_BUDGET = 1.0

SHAPES: dict[str, Callable[[int], str]] = {
    "open_tag_storm": lambda n: "<a " * (n // 3),
    "unclosed_attribute": lambda n: "<p title='" + "x" * n,
    "nested_divs": lambda n: "<div>" * (n // 5),
    "comment_openers": lambda n: "<!--" * (n // 4),
    "charref_storm": lambda n: "&#" * (n // 2),
    "declaration_storm": lambda n: "<!" * (n // 2),
    "cdata_storm": lambda n: "<![CDATA[" * (n // 9),
    "attribute_storm": lambda n: "<p " + "a=b " * (n // 4) + ">text</p>",
    "script_never_closed": lambda n: "<script>" + "<" * n,
    "tag_soup": lambda n: "<b><i><u>x</b></i>" * (n // 18),
}


def hostile_pages(size: int) -> dict[str, str]:
    """Every hostile shape at about ``size`` characters."""
    return {name: build(size) for name, build in SHAPES.items()}


def _context(site: FakeWeb) -> ToolContext:
    config = {
        "fetch_allow_networks": ["127.0.0.1/32"],
        "fetch_allow_ports": [site.port],
        "fetch_max_bytes": 2_000_000,
    }
    return ToolContext(
        user_id=1, user_name="probe", channel_id=2, guild_id=3, config=config,
        tool_settings={"search": config},
        deps=ToolDeps(page_text_slots=asyncio.Semaphore(PAGE_TEXT_WORKERS)),
    )  # fmt: skip


async def _lookup_latencies(stop: asyncio.Event) -> list[float]:
    loop = asyncio.get_running_loop()
    seen: list[float] = []
    while not stop.is_set():
        started = time.perf_counter()
        await loop.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM)
        seen.append(time.perf_counter() - started)
        await asyncio.sleep(0.02)
    return seen


async def read_concurrently(site: FakeWeb, paths: list[str], copies: int) -> dict[str, Any]:
    """Read each page ``copies`` times at once while timing getaddrinfo."""
    stop = asyncio.Event()
    watcher = asyncio.create_task(_lookup_latencies(stop))
    ctx = _context(site)
    started = time.perf_counter()
    outputs = await asyncio.gather(
        *(fetch_page(ctx, url=site.url(path)) for path in paths for _ in range(copies)),
        return_exceptions=True,
    )
    stop.set()
    latencies = await watcher
    return {
        "fetches": len(outputs),
        "failed_fetches": sum(isinstance(out, BaseException) for out in outputs),
        "wall_seconds": round(time.perf_counter() - started, 3),
        "lookups": len(latencies),
        "worst_getaddrinfo_ms": round(max(latencies, default=0.0) * 1000, 1),
    }


async def run_hostile_pages(*, size: int = 1_000_000, copies: int = 4) -> dict[str, Any]:
    """Parse every hostile page on its own, then read them all through fetch_page at once."""
    pages = hostile_pages(size)
    parse_seconds: dict[str, float] = {}
    for name, markup in pages.items():
        started = time.perf_counter()
        html_to_text(markup, max_chars=8_000)
        parse_seconds[name] = round(time.perf_counter() - started, 3)
    async with FakeWeb() as site:
        for name, markup in pages.items():
            site.add_page(f"/hostile/{name}", markup)
        read = await read_concurrently(site, [f"/hostile/{name}" for name in pages], copies)
    return {
        "pages": len(pages),
        "page_chars": size,
        "worst_parse_seconds": max(parse_seconds.values()),
        "worst_page": max(parse_seconds, key=lambda name: parse_seconds[name]),
        "parse_seconds": parse_seconds,
        **read,
    }


def hostile_pages_ok(figures: dict[str, Any]) -> bool:
    """The gate: every page parsed within budget, every fetch answered, DNS never starved."""
    return (
        figures["worst_parse_seconds"] <= PAGE_SECONDS_BUDGET
        and figures["failed_fetches"] == 0
        and figures["worst_getaddrinfo_ms"] <= LOOKUP_SECONDS_BUDGET * 1000
    )
