"""Hostile inputs with small counts: nothing Discord would reject, nobody pinged."""

from __future__ import annotations

from tests.reliability.hostile import HostilePlan, hostile_ok, run_hostile


async def test_hostile_inputs_are_answered_safely() -> None:
    figures = await run_hostile(HostilePlan(generated=40, channels=6))

    assert figures["inputs"] >= 120
    assert figures["unanswered"] == 0, figures
    assert figures["discord_rejections"] == 0, figures
    assert figures["writes_allowing_mentions"] == 0, figures
    assert figures["mass_pings"] == 0, figures
    assert figures["messages_over_2000"] == 0, figures
    assert figures["unhandled_exceptions"] == 0, figures["errors"]
    assert hostile_ok(figures)
