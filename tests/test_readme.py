"""The README's code examples are the code that runs: they may not drift."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def _code_lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def test_the_tool_example_is_examples_dice() -> None:
    block = next(b for b in _python_blocks() if "def roll_dice" in b)
    module = _code_lines((ROOT / "examples" / "dice.py").read_text(encoding="utf-8"))
    for line in _code_lines(block):
        assert line in module, f"README line not in examples/dice.py: {line!r}"


def test_the_test_kit_example_is_a_real_test() -> None:
    block = next(b for b in _python_blocks() if "def test_the_bot_answers_a_mention" in b)
    test_file = (ROOT / "tests" / "e2e" / "test_readme_example.py").read_text(encoding="utf-8")
    assert "\n".join(_code_lines(block)) in "\n".join(_code_lines(test_file))


def test_the_own_tool_test_example_is_a_real_test() -> None:
    block = next(b for b in _python_blocks() if "def test_the_model_rolls_my_dice" in b)
    test_file = ROOT / "tests" / "e2e" / "test_readme_own_tool_example.py"
    code = "\n".join(_code_lines(test_file.read_text(encoding="utf-8")))
    imports, _, test = block.partition("\n\n\n")
    assert all(line in code.splitlines() for line in _code_lines(imports))
    assert "\n".join(_code_lines(test)) in code
