"""SSRF: the fetcher's variants, counted for the headline."""

from __future__ import annotations

from tests.reliability.ssrf import run_ssrf, ssrf_ok


async def test_every_variant_is_refused_without_a_connection() -> None:
    figures = await run_ssrf()

    assert figures["variants"] >= 50
    assert figures["refused"] == figures["variants"], figures
    assert figures["connections_to_denied_addresses"] == 0, figures
    assert figures["requests_reaching_the_site"] == 0, figures
    assert ssrf_ok(figures)
