"""Unit tests for bot.render.split: sizes, preferred cuts, fences, protected runs."""

from __future__ import annotations

import pytest

from bot.render.split import MIN_LIMIT, split_chunks, split_message

from .render_invariants import check_chunks, check_whole


def split_checked(text: str, limit: int = 2000) -> list[str]:
    chunks = split_chunks(text, limit)
    check_chunks(text, limit, chunks)
    messages = split_message(text, limit)
    assert messages == [chunk.text for chunk in chunks]
    return messages


def test_short_text_is_one_unchanged_chunk() -> None:
    assert split_checked("Hello **world**!") == ["Hello **world**!"]


@pytest.mark.parametrize("text", ["", " ", "\n\n\t  \n"])
def test_empty_or_blank_text_gives_no_chunks(text: str) -> None:
    assert split_checked(text) == []


def test_outer_whitespace_is_trimmed() -> None:
    assert split_checked("\n\n  hi there  \n") == ["hi there"]


def test_limit_below_minimum_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match=f"at least {MIN_LIMIT}"):
        split_message("text", MIN_LIMIT - 1)


def test_prefers_paragraph_break_over_later_line_break() -> None:
    text = "a" * 60 + "\n\n" + "b" * 20 + "\n" + "c" * 30
    assert split_checked(text, 100) == ["a" * 60, "b" * 20 + "\n" + "c" * 30]


def test_prefers_line_break_over_later_sentence_end() -> None:
    text = "a" * 60 + "\n" + "b" * 10 + ". " + "c" * 40
    assert split_checked(text, 100)[0] == "a" * 60


def test_prefers_sentence_end_over_later_space() -> None:
    text = "word " * 12 + "end. " + "more " * 10 + "x" * 40
    first = split_checked(text, 100)[0]
    assert first.endswith("end.")


def test_paragraph_break_too_early_loses_to_a_fuller_cut() -> None:
    text = "a" * 10 + "\n\n" + "b " * 60
    assert split_checked(text, 100) == ["a" * 10 + "\n\n" + "b " * 43 + "b", "b " * 15 + "b"]


def test_hard_split_of_a_giant_word() -> None:
    messages = split_checked("x" * 4500)
    assert [len(m) for m in messages] == [2000, 2000, 500]


def test_nine_thousand_char_answer_with_python_block_across_the_boundary() -> None:
    prose = "This paragraph explains the code below in some detail. " * 30
    code_lines = [f"def handler_{i}(event):\n    return process(event, {i})\n" for i in range(90)]
    code = "```python\n" + "\n".join(code_lines) + "```"
    text = prose + "\n\n" + code + "\n\n" + prose + "\n\n" + prose
    assert 8500 < len(text) < 10000
    messages = split_checked(text)
    assert len(messages) >= 5
    inside = [m for m in messages if m.endswith("\n```") and "```python" in m]
    reopened = [m for m in messages if m.startswith("```python\n")]
    assert inside and reopened
    for line in "".join(code_lines).splitlines():
        assert any(line in message for message in messages), line
    check_whole([f"def handler_{i}(event):" for i in range(90)], text, messages)


def test_code_keeps_indentation_across_a_cut() -> None:
    body = "\n".join(f"        deeply_indented_call({i})" for i in range(30))
    text = f"```py\n{body}\n```"
    messages = split_checked(text, 300)
    assert len(messages) > 1
    for message in messages[1:]:
        assert message.startswith("```py\n        deeply_indented_call(")


def test_blank_lines_at_a_code_cut_are_dropped() -> None:
    block = "\n\n".join(f"x{i} = {i}" for i in range(40))
    messages = split_checked(f"```\n{block}\n```", 100)
    for message in messages:
        assert "\n\n```" not in message
        assert not message.startswith("```\n\n")


def test_unclosed_fence_is_closed_in_a_single_chunk() -> None:
    assert split_checked("Look:\n```py\nprint(1)\n") == ["Look:\n```py\nprint(1)\n```"]


def test_unclosed_fence_is_closed_in_the_last_chunk() -> None:
    text = "```js\n" + "\n".join(f"console.log({i});" for i in range(200))
    messages = split_checked(text, 500)
    assert all(m.startswith("```js\n") and m.endswith("\n```") for m in messages)


def test_tilde_fence_is_closed_and_reopened_with_tildes() -> None:
    text = "~~~rust\n" + "\n".join(f'println!("{i}");' for i in range(60)) + "\n~~~"
    messages = split_checked(text, 300)
    assert len(messages) > 1
    assert messages[0].endswith("\n~~~")
    assert all(m.startswith("~~~rust\n") for m in messages)


def test_nested_fences_reopen_the_outer_fence() -> None:
    inner = "```py\n" + "\n".join(f"print({i})" for i in range(40)) + "\n```"
    text = f"````markdown\n{inner}\n````"
    messages = split_checked(text, 200)
    assert len(messages) > 1
    assert all(m.startswith("````markdown\n") and m.endswith("\n````") for m in messages)


def test_adjacent_fences_are_split_between_the_blocks() -> None:
    first = "```py\n" + "a = 1\n" * 12 + "```"
    second = "```js\n" + "b = 2;\n" * 12 + "```"
    messages = split_checked(first + "\n" + second, 150)
    assert messages == [first, second]


def test_reopener_carries_only_a_language_word() -> None:
    text = "```python title='demo.py' linenums\n" + "x = 1\n" * 100 + "```"
    messages = split_checked(text, 200)
    assert messages[1].startswith("```python\n")


def test_fence_with_long_run_is_text() -> None:
    text = "`" * 11 + "\n" + "word " * 100
    assert all("\n```" not in m for m in split_checked(text, 100))


@pytest.mark.parametrize(
    "token",
    [
        "<@123456789012345678>",
        "<@!123456789012345678>",
        "<@&123456789012345678>",
        "<#123456789012345678>",
        "<:blobwave:123456789012345678>",
        "<a:party:123456789012345678>",
        "<t:1700000000:R>",
        "</ask model:123456789012345678>",
        "https://example.com/some/path?query=1&x=2",
        "<https://example.com/wrapped>",
        "[label with spaces](<https://example.com/a>)",
        "`inline code span`",
        "@\u200beveryone",
    ],
)
def test_tokens_at_the_boundary_stay_whole(token: str) -> None:
    for offset in range(len(token) + 2):
        text = "y" * (100 - offset) + token + "z" * 50
        messages = split_checked(text, 100)
        check_whole([token], text, messages)


@pytest.mark.parametrize(
    "cluster",
    [
        "😀",
        "\ud83d\ude00",
        "👩\u200d💻",
        "🇺🇸",
        "👍🏽",
        "1\ufe0f\u20e3",
        "e\u0301\u0302",
    ],
)
def test_grapheme_clusters_at_the_limit_stay_whole(cluster: str) -> None:
    for offset in range(4):
        text = "a" * (2000 - offset) + cluster + "b" * 10
        messages = split_checked(text)
        assert all(len(m) <= 2000 for m in messages)
        check_whole([cluster], text, messages)


def test_astral_emoji_count_as_one_code_point() -> None:
    text = "😀" * 2000
    assert split_checked(text) == [text]


def test_zalgo_longer_than_a_chunk_is_still_split() -> None:
    text = "e" + "\u0301" * 5000
    messages = split_checked(text)
    assert [len(m) for m in messages] == [2000, 2000, 1001]


def test_surrogate_pairs_survive_a_forced_split() -> None:
    text = "\ud83d\ude00" * 1500
    messages = split_checked(text, 2000)
    assert all(len(m) % 2 == 0 for m in messages)


def test_url_longer_than_a_chunk_is_cut() -> None:
    text = "see https://example.com/" + "a" * 3000
    messages = split_checked(text)
    assert messages[0] == "see"
    assert len(messages) == 3


def test_chunk_records_where_its_body_came_from() -> None:
    prose = "first paragraph " * 5
    text = prose + "\n\n```py\n" + "x = 1\n" * 50 + "```"
    chunks = split_chunks(text, 120)
    assert chunks[0].body == prose.strip()
    assert chunks[1].prefix == "" and chunks[1].suffix == "\n```"
    assert chunks[2].prefix == "```py\n"
    assert all(c.start < c.window_end <= len(text) for c in chunks)
