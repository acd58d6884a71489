"""Exact protection levels, one case per kind of protected run (see docs/mutation.md).

Each case states the level of every cut position, so a protection that grows, shrinks or
changes level fails.
"""

from __future__ import annotations

import pytest

from bot.render.protect import FENCE_HEAD, FREE, GRAPHEME, SURROGATE, TOKEN, protection_levels


def levels_of(text: str) -> list[int]:
    return list(protection_levels(text))


def inside_only(text: str, start: int, end: int, level: int) -> list[int]:
    """FREE everywhere except strictly inside ``text[start:end]``."""
    expected = [FREE] * (len(text) + 1)
    for pos in range(start + 1, end):
        expected[pos] = level
    return expected


TOKENS = [
    "<@123456789012345678>",
    "<@!123456789012345678>",
    "<@&123456789012345678>",
    "<#123456789012345678>",
    "<:blob_wave~1:123456789012345678>",
    "<a:party:123456789012345678>",
    "<t:1700000000>",
    "<t:-5:R>",
    "</ask model:123456789012345678>",
    "<id:customize>",
    "<https://example.com/a b>"[:-4] + ">",
    "<hxxps://example.com/x>",
    "https://example.com/p?q=1",
    "HTTP://EXAMPLE.COM/P",
    "hxxp://evil[.]com/x",
    "[label with spaces](https://example.com/a)",
    "![alt text](<https://example.com/i.png>)",
    "[](x)",
    "`inline code`",
    "``code``",
    "@\u200beveryone",
    "@\u200bHERE",
]


@pytest.mark.parametrize("token", TOKENS)
def test_each_kind_of_token_is_protected_strictly_inside(token: str) -> None:
    text = "a " + token + " b"

    assert levels_of(text) == inside_only(text, 2, 2 + len(token), TOKEN)


@pytest.mark.parametrize(
    "text",
    [
        "<@>",  # no id
        "<@123456789012345678901>",  # id longer than 20 digits
        "<t:abc>",
        "``",
        "```x```",  # three backticks are a fence run, not inline code
        "@everyone",  # not neutralised: nothing to protect (the sanitiser handles it)
        "[no link]",
        "a\nb c",
    ],
)
def test_lookalikes_are_not_protected(text: str) -> None:
    levels = levels_of(text)
    if text == "```x```":
        assert levels[1:3] == [TOKEN, TOKEN]  # the fence-like line head instead
        return
    assert levels == [FREE] * (len(text) + 1)


def test_a_fence_line_head_is_protected_up_to_its_limit() -> None:
    line = "```" + "x" * 300
    text = "a\n" + line

    levels = levels_of(text)

    assert levels[:3] == [FREE, FREE, FREE]
    assert levels[3 : 2 + FENCE_HEAD] == [TOKEN] * (FENCE_HEAD - 1)
    assert levels[2 + FENCE_HEAD :] == [FREE] * (len(text) + 1 - 2 - FENCE_HEAD)
    assert FENCE_HEAD == 200


def test_indented_and_tilde_fence_lines_are_protected() -> None:
    text = "a\n  ~~~py\nb"

    # The line head, then the break after the opening line (the block is left open).
    assert levels_of(text) == [FREE] * 3 + [TOKEN] * 7 + [FREE] * 2


def test_the_cuts_that_would_leave_an_empty_block_are_protected() -> None:
    text = "a\n```\nx\n```\nb"
    levels = levels_of(text)

    assert [pos for pos, level in enumerate(levels) if level] == [3, 4, 5, 7, 9, 10]
    assert levels[5] == TOKEN  # the line break after the opening line
    assert levels[7] == TOKEN  # the line break before the closing line


def test_an_unclosed_block_protects_only_its_opening_break() -> None:
    text = "```\nx\ny"

    assert [pos for pos, level in enumerate(levels_of(text)) if level] == [1, 2, 3]


def test_an_empty_fence_line_at_the_end_protects_nothing_after_it() -> None:
    assert [p for p, level in enumerate(levels_of("x\n```")) if level] == [3, 4]


@pytest.mark.parametrize(
    ("text", "protected"),
    [
        ("xe\u0301y", {2: GRAPHEME}),  # combining mark
        ("x\u2764\ufe0fy", {2: GRAPHEME}),  # variation selector
        ("x👍🏽y", {2: GRAPHEME}),  # emoji modifier
        ("x🏴\U000e0067\U000e0062\U000e007fy", {2: GRAPHEME, 3: GRAPHEME, 4: GRAPHEME}),  # tags
        ("x👩\u200d💻y", {2: GRAPHEME, 3: GRAPHEME}),  # around a zero-width joiner
        ("x🇺🇸🇩🇪y", {2: GRAPHEME, 4: GRAPHEME}),  # flags pair up
        ("\u0301x", {}),  # a mark at the very start joins nothing
        ("x\u200d", {1: GRAPHEME}),  # a joiner at the very end
    ],
)
def test_grapheme_clusters(text: str, protected: dict[int, int]) -> None:
    expected = [protected.get(pos, FREE) for pos in range(len(text) + 1)]

    assert levels_of(text) == expected


def test_surrogate_pairs_and_lone_surrogates() -> None:
    assert levels_of("x\ud83d\ude00y") == [FREE, FREE, SURROGATE, FREE, FREE]
    assert levels_of("x\ud83dy\ude00") == [FREE] * 5
    assert levels_of("\ude00\ud83d") == [FREE] * 3


def test_a_token_inside_a_grapheme_run_keeps_the_higher_level() -> None:
    text = "<@1>e\u0301"

    assert levels_of(text) == [FREE, TOKEN, TOKEN, TOKEN, FREE, GRAPHEME, FREE]


@pytest.mark.parametrize(
    ("char", "joins"),
    [
        ("\U0001f3fa", False),  # just below the skin-tone modifiers
        ("\U0001f3fb", True),  # lightest skin tone
        ("\U0001f3fc", True),
        ("\U0001f3ff", True),  # darkest skin tone
        ("\U0001f400", False),  # just above
        ("\U000e001f", False),  # just below the tag characters
        ("\U000e0020", True),  # tag space
        ("\U000e0021", True),
        ("\U000e007f", True),  # cancel tag
        ("\U000e0080", False),  # just above
    ],
)
def test_modifier_and_tag_ranges_are_exact(char: str, joins: bool) -> None:
    assert levels_of("x" + char)[1] == (GRAPHEME if joins else FREE)


def test_a_joiner_before_the_last_character_protects_both_sides() -> None:
    assert levels_of("x\u200dy") == [FREE, GRAPHEME, GRAPHEME, FREE]


def test_the_break_before_the_closing_line_is_the_last_one_in_the_block() -> None:
    text = "a\n```\nx\ny\n```\nb"

    assert [pos for pos, level in enumerate(levels_of(text)) if level] == [3, 4, 5, 9, 11, 12]


def test_an_empty_code_line_before_the_closing_line_is_protected() -> None:
    text = "a\n```\n\n```\nb"

    assert [pos for pos, level in enumerate(levels_of(text)) if level] == [3, 4, 5, 6, 8, 9]
