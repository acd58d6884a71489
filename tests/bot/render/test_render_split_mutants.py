"""The exact cut the splitter chooses, at each rule's boundary (see docs/mutation.md).

The property tests check that every split is valid; these pin which valid split is chosen:
the cut-kind preferences and the half-full threshold, sentence ends before a closer, the break
after a closing fence, cuts and forced cuts inside code, and where chunk bodies start.
"""

from __future__ import annotations

import pytest

from bot.render.split import MIN_LIMIT, split_chunks, split_message

from .render_invariants import check_chunks


def split_checked(text: str, limit: int) -> list[str]:
    chunks = split_chunks(text, limit)
    check_chunks(text, limit, chunks)
    return [chunk.text for chunk in chunks]


def test_the_smallest_allowed_limit_works() -> None:
    assert split_message("hello", MIN_LIMIT) == ["hello"]


def test_a_single_leading_space_is_dropped_and_the_text_kept() -> None:
    assert split_checked(" hi", 2000) == ["hi"]
    assert split_checked("\thi there", 2000) == ["hi there"]


# -- the half-full threshold: a better kind of cut wins only from half the chunk on ---------


def test_a_paragraph_break_exactly_half_way_wins_over_a_later_space() -> None:
    text = "a" * 50 + "\n\n" + "b" * 30 + " " + "c" * 60

    assert split_checked(text, 100) == ["a" * 50, "b" * 30 + " " + "c" * 60]


def test_half_way_rounds_down_for_an_odd_limit() -> None:
    text = "a" * 49 + "\n\n" + "b" * 30 + " " + "c" * 60

    assert split_checked(text, 99) == ["a" * 49, "b" * 30 + " " + "c" * 60]


def test_a_paragraph_break_before_half_way_loses_to_a_later_space() -> None:
    text = "a" * 40 + "\n\n" + "b" * 45 + " " + "c" * 60

    assert split_checked(text, 100) == ["a" * 40 + "\n\n" + "b" * 45, "c" * 60]


def test_the_last_whitespace_in_the_window_is_a_candidate() -> None:
    text = "a" * 60 + " " + "b" * 30 + " " + "c" * 60

    assert split_checked(text, 100) == ["a" * 60 + " " + "b" * 30, "c" * 60]


def test_a_line_break_wins_over_a_later_space_before_a_paragraph() -> None:
    # The space is judged by its own run, not by the paragraph break further on.
    text = "a" * 60 + "\n" + "b" * 30 + " " + "c" * 30 + "\n\n" + "d" * 50

    assert split_checked(text, 100) == [
        "a" * 60,
        "b" * 30 + " " + "c" * 30,
        "d" * 50,
    ]


# -- sentence ends --------------------------------------------------------------------------


def test_a_sentence_end_followed_by_a_closer_is_a_sentence_end() -> None:
    text = "w" * 50 + ' done." ' + "x" * 10 + " " + "y" * 60

    assert split_checked(text, 100) == ["w" * 50 + ' done."', "x" * 10 + " " + "y" * 60]


@pytest.mark.parametrize("closer", ['"', "'", ")", "]", "*", "_", "»", "”", "’"])
def test_every_closer_after_a_sentence_end_counts(closer: str) -> None:
    text = "w" * 50 + " done." + closer + " " + "x" * 10 + " " + "y" * 60

    assert split_checked(text, 100)[0] == "w" * 50 + " done." + closer


def test_a_dot_inside_a_word_is_no_sentence_end() -> None:
    text = "w" * 52 + ". " + "c" * 20 + " 3.5 " + "d" * 50

    assert split_checked(text, 100) == ["w" * 52 + ".", "c" * 20 + " 3.5 " + "d" * 50]


# -- fences as paragraph breaks -------------------------------------------------------------


def test_the_line_break_after_a_closing_fence_is_a_paragraph_break() -> None:
    code = "```py\n" + "x = 1\n" * 7 + "```"
    text = "Intro:\n" + code + "\n" + "b" * 20 + "\n" + "c" * 40

    assert split_checked(text, 100) == ["Intro:\n" + code, "b" * 20 + "\n" + "c" * 40]


def test_a_fence_like_line_that_opens_nothing_still_ends_a_paragraph() -> None:
    line = "``` not ` a fence " + "z" * 40
    text = "\n" + line + "\n" + "b" * 20 + "\n" + "c" * 40

    assert split_checked(text, 100) == [line, "b" * 20 + "\n" + "c" * 40]


# -- cuts inside code -----------------------------------------------------------------------


def test_a_blank_line_in_code_wins_over_later_line_breaks() -> None:
    text = "```\n" + "a" * 50 + "\n\n" + "b" * 20 + "\n" + "c" * 20 + "\n" + "d" * 40 + "\n```"

    assert split_checked(text, 100) == [
        "```\n" + "a" * 50 + "\n```",
        "```\n" + "b" * 20 + "\n" + "c" * 20 + "\n" + "d" * 40 + "\n```",
    ]


def test_code_is_cut_at_a_space_that_leaves_room_for_the_closer() -> None:
    text = "```\n" + "word " * 40 + "\n```"

    assert split_checked(text, 100) == [
        "```\n" + "word " * 17 + "word\n```",
        "```\n" + " word" * 18 + "\n```",
        "```\n" + " word" * 4 + " \n```",
    ]


def test_a_space_in_code_too_close_to_the_limit_for_the_closer_is_not_used() -> None:
    text = "```\n" + "a" * 93 + " " + "b" * 50 + "\n```"

    assert split_checked(text, 100) == [
        "```\n" + "a" * 92 + "\n```",
        "```\na " + "b" * 50 + "\n```",
    ]


def test_spaces_inside_inline_code_within_a_block_are_not_cut() -> None:
    text = "```\n" + "x" * 70 + "`a b`" + "y" * 40 + "\n```"

    assert split_checked(text, 100) == [
        "```\n" + "x" * 70 + "`a b`" + "y" * 17 + "\n```",
        "```\n" + "y" * 23 + "\n```",
    ]


def test_blank_lines_right_after_the_opening_fence_are_not_a_cut() -> None:
    text = "```py\n\n\n" + "x" * 150 + "\n```"

    assert split_checked(text, 100) == [
        "```py\n\n\n" + "x" * 88 + "\n```",
        "```py\n" + "x" * 62 + "\n```",
    ]


def test_an_unclosed_block_that_fits_only_without_its_closer_is_split() -> None:
    text = "```py\n" + "a = 1\n" * 15 + "b=2"

    assert len(text) == 99
    assert split_checked(text, 100) == ["```py\n" + "a = 1\n" * 15 + "```", "```py\nb=2\n```"]


def test_a_code_line_longer_than_a_chunk_is_cut_hard_with_closers() -> None:
    text = "```\n" + "x" * 300 + "\n```"

    assert split_checked(text, 100) == ["```\n" + "x" * 92 + "\n```"] * 3 + [
        "```\n" + "x" * 24 + "\n```"
    ]


def test_a_chunk_that_starts_with_indentation_keeps_it() -> None:
    text = "```\n" + "a" * 50 + "\n" + "    " + "x" * 200 + "\n```"

    assert split_checked(text, 100) == [
        "```\n" + "a" * 50 + "\n```",
        "```\n    " + "x" * 88 + "\n```",
        "```\n" + "x" * 92 + "\n```",
        "```\n" + "x" * 20 + "\n```",
    ]


def test_the_window_of_a_reopened_chunk_leaves_room_for_the_reopener() -> None:
    text = "```python\n" + "value = compute()\n" * 20 + "```"

    chunks = split_chunks(text, 120)

    assert [chunk.window_end - chunk.start for chunk in chunks[:-1]] == [120] + [110] * (
        len(chunks) - 2
    )
    assert all(chunk.prefix == "```python\n" for chunk in chunks[1:])


# -- forced cuts through protected runs -----------------------------------------------------


def test_a_forced_cut_takes_the_last_free_position_before_a_token() -> None:
    text = "y" * 99 + "<@123456789012345678>" + "z" * 50

    assert split_checked(text, 100) == ["y" * 99, "<@123456789012345678>" + "z" * 50]


def test_a_forced_cut_through_a_long_link_drops_the_spaces_at_the_cut() -> None:
    label = "word " * 40
    text = "[" + label + "](https://e.com)"

    assert split_checked(text, 100) == [
        "[" + "word " * 19 + "word",
        "word " * 19 + "word",
        "](https://e.com)",
    ]
    assert split_checked(text, 101) == [
        "[" + "word " * 19 + "word",
        "word " * 20 + "]",
        "(https://e.com)",
    ]


def test_a_forced_cut_through_a_long_link_in_code_keeps_the_spaces() -> None:
    text = "```\nx = 1\n[" + "word " * 40 + "](https://e.com)\n```"

    assert split_checked(text, 103) == [
        "```\nx = 1\n```",
        "```\n[" + "word " * 18 + "word\n```",
        "```\n" + " word" * 19 + "\n```",
        "```\n word word ](https://e.com)\n```",
    ]


def test_a_reopened_chunk_is_half_full_net_of_its_reopener() -> None:
    # Chunk two carries a 10-character reopener: half of the 90 left is 45, so its blank line
    # 49 characters in wins over its later line break.
    text = (
        "```python\n" + "x" * 80 + "\n" + "y" * 49 + "\n\n" + "z" * 30 + "\n" + "w" * 60 + "\n```"
    )

    assert split_checked(text, 100) == [
        "```python\n" + "x" * 80 + "\n```",
        "```python\n" + "y" * 49 + "\n```",
        "```python\n" + "z" * 30 + "\n```",
        "```python\n" + "w" * 60 + "\n```",
    ]


def test_a_space_that_starts_a_chunk_in_code_is_not_a_cut() -> None:
    text = "```\n" + "a" * 92 + " " + "b" * 150 + "\n```"

    assert split_checked(text, 100) == [
        "```\n" + "a" * 92 + "\n```",
        "```\n " + "b" * 91 + "\n```",
        "```\n" + "b" * 59 + "\n```",
    ]
