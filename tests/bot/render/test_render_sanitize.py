"""Unit tests for bot.render.sanitize."""

from __future__ import annotations

import pytest

from bot.render.sanitize import (
    ZERO_WIDTH_SPACE,
    clean_user_text,
    fix_surrogates,
    neutralize_mass_mentions,
    sanitize_output,
)

TAGGED = "hi\U000e0001\U000e0069\U000e0067\U000e006e\U000e007f"


def test_tag_characters_are_removed_both_ways() -> None:
    assert sanitize_output(TAGGED) == "hi"
    assert clean_user_text(TAGGED) == "hi"


def test_bidi_overrides_are_removed_from_output_only() -> None:
    spoof = "invoice\u202egpj.exe\u2066x\u2069"
    assert sanitize_output(spoof) == "invoicegpj.exex"
    assert clean_user_text(spoof) == spoof


@pytest.mark.parametrize("text", ["@everyone", "@here", "@Everyone", "@HERE now", "a@everyone"])
def test_mass_mentions_are_neutralised(text: str) -> None:
    out = sanitize_output(text)
    assert "@" + ZERO_WIDTH_SPACE in out
    assert out.replace(ZERO_WIDTH_SPACE, "") == text


def test_neutralising_is_idempotent() -> None:
    once = neutralize_mass_mentions("@everyone @here")
    assert neutralize_mass_mentions(once) == once


def test_removed_controls_cannot_rebuild_a_mass_mention() -> None:
    assert "@everyone" not in sanitize_output("@\u202eeveryone @\U000e0041here")


def test_surrogates_are_joined_or_replaced() -> None:
    assert fix_surrogates("\ud83d\ude00") == "😀"
    assert fix_surrogates("a\ud83db") == "a\ufffdb"
    assert fix_surrogates("\ude00\ud83d\ud83d\ude00") == "\ufffd\ufffd😀"
    assert fix_surrogates("plain") == "plain"
    sanitize_output("x\ud800").encode("utf-8")


def test_user_mentions_are_left_to_allowed_mentions() -> None:
    assert sanitize_output("<@123> <@&456>") == "<@123> <@&456>"
