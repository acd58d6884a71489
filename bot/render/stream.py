"""Helpers for rendering text that is still streaming in.

The rule that keeps earlier messages stable: ``hold_back_tail`` shows only text that later text
cannot change the rendering of, and ``settled_prefix`` drops chunks after the first one whose cut
may still move. Everything that runs in between (sanitising, hiding reasoning, defanging, splitting)
then renders a longer text as an extension of the shorter one, so every chunk but the last stays
the same while the text grows, and equals the chunk the final render produces.

Known limits: a word longer than ``MAX_HELD_WORD`` is shown while it grows, and a Discord
slash-command mention with a space in it (``</cmd sub:1>``) may move an earlier cut once complete.
"""

from __future__ import annotations

from bot.render.fences import inline_code_spans, open_fence_after, starts_fence_like
from bot.render.split import Chunk

MAX_HELD_WORD = 512
"""A trailing word longer than this is shown even though it may still grow."""


def hold_back_tail(text: str) -> str:
    """The part of a growing ``text`` that is safe to render now.

    Held back: the last word if it is not followed by whitespace yet (a URL, mention, ``<think>``
    tag or ``@everyone`` may still be half written); a last line that looks like a fence line
    (its language may still be coming); a fence just opened with no code after it yet (it would
    show as an empty block); and, on the last line, everything from a ``[`` that has
    no ``]`` yet or from a backtick run that is not closed yet (a Markdown link or inline code may
    still change how earlier text is defanged).
    """
    text = text[: _last_word_start(text)]
    line_start = text.rfind("\n") + 1
    if starts_fence_like(text, line_start):
        return text[:line_start]
    text = text[: line_start + _stable_length(text[line_start:])]
    return text[: _empty_block_start(text)]


def _empty_block_start(text: str) -> int:
    """Where a fence opened by the last non-blank line starts, else ``len(text)``."""
    content = text.rstrip()
    line_start = content.rfind("\n") + 1
    if not starts_fence_like(content, line_start) or open_fence_after(content) is None:
        return len(text)
    return line_start if open_fence_after(content[:line_start]) is None else len(text)


def _last_word_start(text: str) -> int:
    """Where the trailing word starts, or ``len(text)`` if it is longer than ``MAX_HELD_WORD``."""
    tail_start = max(0, len(text) - MAX_HELD_WORD - 1)
    for index in range(len(text) - 1, tail_start - 1, -1):
        if text[index].isspace():
            return index + 1
    return 0 if tail_start == 0 else len(text)


def _stable_length(line: str) -> int:
    """How much of ``line`` comes before an unclosed ``[`` or an unclosed backtick run."""
    cut = len(line)
    open_bracket = line.rfind("[")
    if open_bracket >= 0 and "]" not in line[open_bracket:]:
        cut = open_bracket
    code_ends = dict(inline_code_spans(line))
    pos = 0
    while pos < cut:
        tick = line.find("`", pos)
        if tick < 0 or tick >= cut:
            break
        if tick not in code_ends:
            return tick
        pos = code_ends[tick]
    return cut


def settled_prefix(chunks: list[Chunk], text: str) -> list[Chunk]:
    """``chunks`` up to and including the first one whose cut more text could still move.

    A chunk's cut is settled once ``text`` has non-whitespace after the chunk's window (see
    ``split.py``). The returned list ends with the first unsettled chunk, which is shown as the
    last, still-growing message; the text after it waits.
    """
    content_end = len(text.rstrip())
    for index, chunk in enumerate(chunks[:-1]):
        if content_end <= chunk.window_end + 1:
            return chunks[: index + 1]
    return chunks
