"""S1 through the whole bot with small counts: kill -9 mid-reply loses and doubles nothing."""

from __future__ import annotations

from tests.reliability.crash import CrashPlan, crash_ok, run_crash


async def test_kill_9_mid_reply_loses_and_doubles_nothing() -> None:
    figures = await run_crash(CrashPlan(kills=5, messages_per_round=3, channels=4))

    assert figures["messages"] == 15
    assert figures["lost"] == 0, figures
    assert figures["duplicated"] == 0, figures
    assert figures["integrity_ok"], figures
    assert figures["pending_exchanges"] == 0, figures
    assert figures["unhandled_exceptions"] == 0, figures
    assert crash_ok(figures)
