"""Unit tests for bot.render.reasoning."""

from __future__ import annotations

import pytest

from bot.render.reasoning import strip_reasoning


@pytest.mark.parametrize(
    ("text", "visible", "reasoning"),
    [
        ("no tags", "no tags", ""),
        ("<think>plan</think>\n\nAnswer", "\n\nAnswer", "plan"),
        ("a<THINK> x </Think>b<thinking>y</thinking>c", "abc", "x\n\ny"),
        ("Answer so far <think>still thinking", "Answer so far ", "still thinking"),
        ("stray</think> closer", "stray closer", ""),
        ("<think>a<think>b</think>c", "c", "a<think>b"),
        ("<think></think>x", "x", ""),
    ],
)
def test_strip_reasoning(text: str, visible: str, reasoning: str) -> None:
    assert strip_reasoning(text) == (visible, reasoning)


def test_open_at_start_hides_until_the_closer() -> None:
    assert strip_reasoning("plan</think>Answer", open_at_start=True) == ("Answer", "plan")
    assert strip_reasoning("still planning", open_at_start=True) == ("", "still planning")


def test_streaming_prefixes_never_show_reasoning() -> None:
    text = "Hi <think>secret plan</think>there"
    for end in range(len(text) + 1):
        visible, _ = strip_reasoning(text[:end])
        assert "secret" not in visible
