"""Unit tests for bot.render.protect."""

from __future__ import annotations

from bot.render.protect import FREE, GRAPHEME, SURROGATE, TOKEN, protection_levels


def inside(text: str, part: str) -> set[int]:
    start = text.index(part)
    return set(protection_levels(text)[start + 1 : start + len(part)])


def test_tokens_are_protected_inside_but_not_at_their_edges() -> None:
    text = "a <@123> b https://x.org/p c [l m](https://y.org) d `co de` e"
    levels = protection_levels(text)
    for part in ["<@123>", "https://x.org/p", "[l m](https://y.org)", "`co de`"]:
        start = text.index(part)
        assert inside(text, part) == {TOKEN}
        assert levels[start] == FREE and levels[start + len(part)] == FREE


def test_grapheme_and_surrogate_levels() -> None:
    assert inside("xe\u0301y", "e\u0301") == {GRAPHEME}
    assert inside("x👩\u200d💻y", "👩\u200d💻") == {GRAPHEME}
    assert inside("x🇺🇸🇩🇪y", "🇺🇸") == {GRAPHEME}
    assert protection_levels("x🇺🇸🇩🇪y")[3] == FREE
    assert inside("x\ud83d\ude00y", "\ud83d\ude00") == {SURROGATE}


def test_fence_lines_and_empty_block_cuts_are_protected() -> None:
    text = "a\n```py\nx\n```\nb"
    levels = protection_levels(text)
    assert levels[text.index("```py") + 2] == TOKEN
    assert levels[text.index("\nx")] == TOKEN
    assert levels[text.index("x\n") + 1] == TOKEN
