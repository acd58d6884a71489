"""Unit tests for bot.render.stream and render_partial."""

from __future__ import annotations

import pytest

from bot.render import render_partial, render_reply
from bot.render.split import split_chunks
from bot.render.stream import MAX_HELD_WORD, hold_back_tail, settled_prefix

from .render_invariants import check_chunks


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("", ""),
        ("hello wor", "hello "),
        ("hello ", "hello "),
        ("ping <@12", "ping "),
        ("see https://exa", "see "),
        ("x <thi", "x "),
        ("a [my lab", "a "),
        ("a [done](x) b ", "a [done](x) b "),
        ("run `code x", "run "),
        ("run `code` x ", "run `code` x "),
        ("x\n```pyt", "x\n"),
        ("x\n\n```python\n", "x\n\n"),
        ("x\n```python\nprint(1)\n", "x\n```python\nprint(1)\n"),
        ("```py\nx\n```\n", "```py\nx\n```\n"),
    ],
)
def test_hold_back_tail(text: str, shown: str) -> None:
    assert hold_back_tail(text) == shown


def test_very_long_words_are_shown_while_growing() -> None:
    word = "w" * (MAX_HELD_WORD + 1)
    assert hold_back_tail("a " + word) == "a " + word


def test_partial_closes_an_open_fence() -> None:
    assert render_partial("Code:\n```py\nprint(1)\n") == ["Code:\n```py\nprint(1)\n```"]


def test_partial_hides_reasoning_and_holds_back_its_tag() -> None:
    text = "Let me see. <think>the user wants the secret plan</think>Here it is."
    for end in range(len(text) + 1):
        for message in render_partial(text[:end]):
            assert "secret" not in message and "<" not in message


def test_partial_never_shows_a_half_mention_or_url() -> None:
    text = "Hi <@123456789> read https://evil.com/x?d=secret now @everyone ok"
    for end in range(len(text) + 1):
        for message in render_partial(text[:end]):
            assert "<@1" not in message or "<@123456789>" in message
            assert "https://" not in message
            assert "@everyone" not in message


def test_settled_prefix_drops_chunks_whose_cut_may_move() -> None:
    text = "a" * 90 + " " + "b" * 20
    chunks = split_chunks(text, 100)
    assert len(chunks) == 2
    assert settled_prefix(chunks, text) == chunks
    short = "a" * 60 + "\n\n" + "```py\n" + "x" * 30
    chunks = split_chunks(short, 100)
    assert len(settled_prefix(chunks, short)) <= len(chunks)


def test_streamed_chunks_never_change_and_match_the_final_render() -> None:
    prose = "Streaming answers grow word by word, sometimes with links like https://evil.com/x. "
    code = "```python\n" + "".join(f"value_{i} = compute({i})\n" for i in range(60)) + "```\n"
    text = (prose * 12 + "\n\n" + code + "\n" + prose * 8) * 2
    final = render_reply(text, limit=500)
    shown_before: list[str] = []
    for end in range(0, len(text) + 1, 7):
        messages = render_partial(text[:end], 500)
        for message in messages:
            assert len(message) <= 500
        assert messages[:-1] == final[: max(len(messages) - 1, 0)]
        assert messages[: max(len(shown_before) - 1, 0)] == shown_before[:-1]
        shown_before = messages
    assert render_partial(text + " ", 500) == final


def test_partial_chunks_satisfy_split_invariants() -> None:
    text = "word " * 300 + "\n```js\n" + "let x = 1;\n" * 80
    display = hold_back_tail(text)
    check_chunks(display, 200, split_chunks(display, 200))
