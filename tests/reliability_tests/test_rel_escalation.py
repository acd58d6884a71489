"""Privilege escalation: forbidden tools are neither offered nor run; permitted ones do run."""

from __future__ import annotations

from tests.reliability.escalation import (
    PERSONAS,
    VECTORS,
    escalation_ok,
    permitted,
    plan,
    run_escalation,
)


def test_the_oracle_follows_the_declared_rules() -> None:
    nobody, helper, moderator, owner = PERSONAS
    assert not permitted("ban_member", moderator, in_guild=True)
    assert permitted("kick_member", moderator, in_guild=True)
    assert not permitted("kick_member", moderator, in_guild=False)
    assert permitted("purge_channel", helper, in_guild=True)
    assert permitted("server_roster", nobody, in_guild=True)
    assert not permitted("server_roster", owner, in_guild=False)
    assert permitted("shutdown_bot", owner, in_guild=False)
    assert not permitted("shutdown_bot", moderator, in_guild=True)
    assert sum(not attempt.allowed for attempt in plan(VECTORS)) >= 100


async def test_no_forbidden_tool_runs_or_is_offered() -> None:
    figures = await run_escalation(VECTORS)

    assert figures["attempts"] >= 100
    assert figures["executed"] == 0, figures
    assert figures["offered_to_the_model"] == 0, figures
    assert figures["positive_controls_executed"] == figures["positive_controls"], figures
    assert figures["unanswered"] == 0, figures
    assert figures["unhandled_exceptions"] == 0, figures["errors"]
    assert escalation_ok(figures)
