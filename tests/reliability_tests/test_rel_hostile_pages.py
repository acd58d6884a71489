"""Hostile pages: every shape parsed within budget while DNS lookups stay fast."""

from __future__ import annotations

from tests.reliability.hostile_pages import SHAPES, hostile_pages_ok, run_hostile_pages


async def test_hostile_pages_parse_fast_and_never_starve_getaddrinfo() -> None:
    figures = await run_hostile_pages(size=200_000, copies=2)

    assert figures["pages"] == len(SHAPES)
    assert figures["fetches"] == 2 * len(SHAPES)
    assert figures["failed_fetches"] == 0, figures
    assert figures["worst_parse_seconds"] <= 2.0, figures
    assert figures["worst_getaddrinfo_ms"] <= 1_000, figures
    assert hostile_pages_ok(figures)
