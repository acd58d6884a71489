"""Code-fence scanning shared by the splitter, the link defanger and the tests.

The rule is line based, like CommonMark, because that is how models write Markdown:

- A line opens a fence when, after any spaces or tabs, it starts with a run of 3 to
  ``MAX_FENCE_RUN`` backticks or tildes. The rest of the line is the info string; for a backtick
  fence it may not contain a backtick (then the line is plain text, as in CommonMark).
- While a fence is open, a line closes it when it holds, between spaces or tabs, only a run of the
  same character at least as long as the opening run. Every other line is code.

Any indentation is accepted (CommonMark allows at most 3 spaces). Discord renders only backtick
fences; tilde fences are tracked all the same so that a model's ``~~~`` block is never cut open.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

MAX_FENCE_RUN = 10
"""Longest run that opens a fence; longer runs are text. Bounds what a reopened chunk costs."""

MAX_LANGUAGE = 24
"""Longest language name carried over when a fence is reopened in the next chunk."""

_FENCE_LINE = re.compile(r"[ \t]*(`+|~+)(.*)")
_FENCE_START = re.compile(r"[ \t]*(?:`{3}|~{3})")
_LANGUAGE = re.compile(rf"[A-Za-z0-9_+\-.#]{{1,{MAX_LANGUAGE}}}")


@dataclass(frozen=True)
class Fence:
    """An open code fence: its character, run length and info string."""

    char: str
    length: int
    info: str = ""

    @property
    def marker(self) -> str:
        """The run of fence characters, e.g. ```` ``` ````."""
        return self.char * self.length

    @property
    def language(self) -> str:
        """The first word of the info string if it looks like a language name, else ``""``."""
        words = self.info.split(maxsplit=1)
        if words and _LANGUAGE.fullmatch(words[0]):
            return words[0]
        return ""

    def reopener(self) -> str:
        """The line that reopens this fence at the top of the next chunk (with its newline)."""
        return f"{self.marker}{self.language}\n"

    def closer(self) -> str:
        """What closes this fence at the end of a chunk (a newline, then the run)."""
        return f"\n{self.marker}"


def next_state(line: str, open_fence: Fence | None) -> Fence | None:
    """The fence that is open after ``line`` (one line, without its newline).

    Args:
        line: The line's text; a partial line is classified as if it were whole.
        open_fence: The fence open before the line, or None in prose.
    """
    match = _FENCE_LINE.match(line)
    if match is None:
        return open_fence
    run, rest = match.group(1), match.group(2)
    if open_fence is None:
        if not 3 <= len(run) <= MAX_FENCE_RUN or (run[0] == "`" and "`" in rest):
            return None
        return Fence(run[0], len(run), rest.strip())
    if run[0] == open_fence.char and len(run) >= open_fence.length and not rest.strip():
        return None
    return open_fence


def open_fence_after(text: str, open_fence: Fence | None = None) -> Fence | None:
    """The fence left open at the end of ``text`` (None when every fence is closed)."""
    state = open_fence
    for line in text.split("\n"):
        state = next_state(line, state)
    return state


def starts_fence_like(text: str, pos: int) -> bool:
    """Whether the line that starts at ``pos`` begins (after blanks) with 3 fence characters."""
    return _FENCE_START.match(text, pos) is not None


def code_block_spans(text: str) -> list[tuple[int, int]]:
    """Spans of fenced blocks, from the start of the opening line to the end of the closing line.

    An unclosed block runs to the end of the text.
    """
    spans: list[tuple[int, int]] = []
    state: Fence | None = None
    block_start = 0
    line_start = 0
    while line_start <= len(text):
        newline = text.find("\n", line_start)
        line_end = len(text) if newline < 0 else newline
        after = next_state(text[line_start:line_end], state)
        if state is None and after is not None:
            block_start = line_start
        elif state is not None and after is None:
            spans.append((block_start, line_end))
        state = after
        line_start = line_end + 1
    if state is not None:
        spans.append((block_start, len(text)))
    return spans


_BACKTICK_RUN = re.compile(r"`+")


def inline_code_spans(text: str) -> list[tuple[int, int]]:
    """Spans of inline code: a backtick run, text, then the next run of the same length on the line.

    Runs are paired left to right; a run with no partner on its line is plain text. Linear apart
    from a binary search per run, so long runs of backticks cost nothing special.
    """
    runs = [match.span() for match in _BACKTICK_RUN.finditer(text)]
    by_length: dict[int, list[int]] = {}
    for index, (start, end) in enumerate(runs):
        by_length.setdefault(end - start, []).append(index)
    newlines = [match.start() for match in re.finditer("\n", text)]
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(runs):
        start, end = runs[index]
        partner = _next_same_length(by_length[end - start], index)
        line_end = _line_end(newlines, end, len(text))
        if partner is not None and runs[partner][0] < line_end:
            spans.append((start, runs[partner][1]))
            index = partner + 1
        else:
            index += 1
    return spans


def _next_same_length(indexes: list[int], index: int) -> int | None:
    position = bisect_right(indexes, index)
    return indexes[position] if position < len(indexes) else None


def _line_end(newlines: list[int], pos: int, text_length: int) -> int:
    position = bisect_left(newlines, pos)
    return newlines[position] if position < len(newlines) else text_length
