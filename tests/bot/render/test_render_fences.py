"""Unit tests for bot.render.fences."""

from __future__ import annotations

import pytest

from bot.render.fences import (
    Fence,
    code_block_spans,
    inline_code_spans,
    next_state,
    open_fence_after,
)

PY = Fence("`", 3, "py")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("```py", Fence("`", 3, "py")),
        ("   ```  python title=x ", Fence("`", 3, "python title=x")),
        ("\t~~~~ rust", Fence("~", 4, "rust")),
        ("````", Fence("`", 4, "")),
        ("``", None),
        ("``` py `x`", None),
        ("`" * 11, None),
        ("text ```py", None),
    ],
)
def test_opening_lines(line: str, expected: Fence | None) -> None:
    assert next_state(line, None) == expected


@pytest.mark.parametrize(
    ("line", "closes"),
    [("```", True), ("  ```   ", True), ("`````", True), ("``", False), ("~~~", False)],
)
def test_closing_lines(line: str, closes: bool) -> None:
    assert (next_state(line, PY) is None) is closes


def test_closing_line_must_not_carry_text() -> None:
    assert next_state("```js", PY) == PY


def test_longer_opening_run_needs_a_longer_closer() -> None:
    outer = Fence("`", 4, "md")
    assert next_state("```", outer) == outer
    assert next_state("````", outer) is None


def test_reopener_and_closer() -> None:
    fence = Fence("~", 4, "python linenums")
    assert fence.reopener() == "~~~~python\n"
    assert fence.closer() == "\n~~~~"
    assert Fence("`", 3, "{.python} x").reopener() == "```\n"
    assert Fence("`", 3, "x" * 30).language == ""


def test_open_fence_after() -> None:
    assert open_fence_after("a\n```py\nx") == PY
    assert open_fence_after("a\n```py\nx\n```") is None
    assert open_fence_after("x\n```", PY) is None


def test_code_block_spans() -> None:
    text = "a\n```py\nx\n```\nb\n~~~\ny"
    spans = code_block_spans(text)
    assert [text[s:e] for s, e in spans] == ["```py\nx\n```", "~~~\ny"]


def test_inline_code_spans_stay_on_one_line() -> None:
    text = "a `b` c ``d`e`` f `g\nh`"
    assert [text[s:e] for s, e in inline_code_spans(text)] == ["`b`", "``d`e``"]
