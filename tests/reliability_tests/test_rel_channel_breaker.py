"""The channel breaker: a channel where Discord refused the bot is paused, then tried again.

The end-to-end behaviour (no retry storm, other channels served, answers after the pause) is in
the fault cases ``discord_403_lost_permission``, ``discord_404_channel_gone`` and
``discord_channel_breaker_half_open``; these are the pacer's own rules.
"""

from __future__ import annotations

import logging

import pytest

from bot.delivery import EditPacer


async def test_a_refused_channel_is_paused_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pacer = EditPacer(0.0, forbidden_retry_s=600)
    with caplog.at_level(logging.WARNING, logger="toolcord.delivery"):
        for _ in range(5):
            pacer.note_forbidden(42)
    assert pacer.is_paused(42)
    assert not pacer.is_paused(43)
    assert len([r for r in caplog.records if "lacks permission" in r.getMessage()]) == 1


async def test_the_pause_ends_after_its_time() -> None:
    pacer = EditPacer(0.0, forbidden_retry_s=0.0)
    pacer.note_forbidden(42)
    assert not pacer.is_paused(42), "a zero pause never pauses (channel_pause_s = 0)"
