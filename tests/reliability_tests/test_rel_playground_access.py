"""Playground access: every probe without the printed link is refused; the link works."""

from __future__ import annotations

from tests.reliability.playground_access import playground_access_ok, run_playground_access


async def test_no_probe_gets_into_the_playground_without_its_link() -> None:
    figures = await run_playground_access()

    assert figures["probes"] >= 300, figures
    assert figures["let_in"] == 0, figures
    assert figures["messages_injected_by_probes"] == 0, figures
    assert figures["controls_ok"] == figures["controls"] == 4, figures
    assert playground_access_ok(figures)
