"""Attachment limits: every file made is delivered or named; Discord refuses nothing."""

from __future__ import annotations

from tests.reliability.attachment_limits import (
    CASES,
    attachment_limits_ok,
    expected,
    run_attachment_limits,
)


async def test_no_file_is_lost_and_discord_refuses_nothing() -> None:
    figures = await run_attachment_limits()

    assert figures["cases"] == len(CASES)
    assert figures["files_made"] == sum(expected(case)[0] for case in CASES) == 40
    assert figures["files_delivered"] + figures["files_named_in_notices"] == 40, figures
    assert figures["files_lost_silently"] == 0, figures
    assert figures["discord_refusals"] == 0, figures
    assert figures["messages_over_10_files"] == 0, figures
    assert figures["image_calls_beyond_the_cap"] == 0, figures
    assert figures["calls_refused_before_running"] == figures["calls_the_rules_refuse"] == 3
    assert attachment_limits_ok(figures)
