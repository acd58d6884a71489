"""A bot's memory of its model server: warnings once per bot, refusals kept per bot."""

from __future__ import annotations

import logging

import pytest

from bot.engine import ServerMemory


def test_a_warning_is_given_once_per_bot(caplog: pytest.LogCaptureFixture) -> None:
    first, second = ServerMemory(), ServerMemory()
    with caplog.at_level(logging.WARNING, logger="toolcord.engine"):
        first.warn_once("effort 'none' is sent")
        first.warn_once("effort 'none' is sent")
        second.warn_once("effort 'none' is sent")
        first.warn_once("another reason")
    assert [r.getMessage() for r in caplog.records] == [
        "effort 'none' is sent",
        "effort 'none' is sent",
        "another reason",
    ]


def test_each_bot_has_its_own_refusals() -> None:
    first, second = ServerMemory(), ServerMemory()
    first.refused.remember("stream_options", "refused")
    assert first.refused.refused == ("stream_options",)
    assert second.refused.refused == ()
