"""Isolation probes with small counts: no conversation sees another's canary."""

from __future__ import annotations

from tests.reliability.isolation import IsolationPlan, isolation_ok, run_isolation


async def test_no_canary_crosses_conversations() -> None:
    figures = await run_isolation(IsolationPlan(probes=150))

    assert figures["probes"] == 150
    assert figures["private_conversations"] > 0
    assert figures["probes_seeing_own_history"] > 0, "the control: history must reach the model"
    assert figures["leaks"] == 0, figures
    assert figures["unanswered"] == 0, figures
    assert figures["unhandled_exceptions"] == 0, figures["errors"]
    assert isolation_ok(figures)
