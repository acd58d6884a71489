"""Hide the reasoning that some models write between ``<think>`` and ``</think>``.

Tags are matched case-insensitively, as ``<think>`` or ``<thinking>``, anywhere in the text (also
inside code blocks). A block that is still open at the end (while streaming, or a cut-off answer)
hides everything after its tag. A closing tag with no opening one is removed. For models whose
chat template opens the block itself, pass ``open_at_start=True``: the text then starts hidden.
"""

from __future__ import annotations

import re

_TAG = re.compile(r"<(/?)(?:think|thinking)\s*>", re.IGNORECASE)


def strip_reasoning(text: str, *, open_at_start: bool = False) -> tuple[str, str]:
    """Split ``text`` into what the user sees and the hidden reasoning.

    Args:
        text: Model output, complete or partial.
        open_at_start: The text starts inside a reasoning block.

    Returns:
        ``(visible, reasoning)``: ``visible`` is ``text`` with every block and its tags removed,
        nothing else changed; ``reasoning`` is the blocks' stripped contents joined by blank lines,
        or ``""``.
    """
    visible: list[str] = []
    hidden: list[str] = []
    inside = open_at_start
    pos = 0
    for match in _TAG.finditer(text):
        closing = match.group(1) == "/"
        if inside and closing:
            hidden.append(text[pos : match.start()])
            inside = False
        elif not inside:
            visible.append(text[pos : match.start()])
            inside = not closing
        else:
            continue
        pos = match.end()
    (hidden if inside else visible).append(text[pos:])
    reasoning = "\n\n".join(part.strip() for part in hidden if part.strip())
    return "".join(visible), reasoning
