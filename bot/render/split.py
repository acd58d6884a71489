"""Split text into Discord messages of at most ``limit`` code points, keeping code fences whole.

Contract (tested in ``tests/bot/render``):

- Every chunk is at most ``limit`` code points (Python ``len``) and contains non-whitespace text.
- Every chunk's fences are balanced (``fences.open_fence_after(chunk) is None``): a chunk that
  ends inside a fence gets a closer (``\\n`` + the opening run) and the next chunk starts with a
  reopener (the run and the language, e.g. ```` ```py\\n ````). An unclosed fence at the very end
  is closed too.
- Cuts prefer, in order: the end of the text, a paragraph break (a blank line, or the line break
  before an opening fence or after a closing one), a line break, a blank line inside code, the end
  of a sentence, a line break inside code, a space. A better kind of cut wins when it leaves the
  chunk at least half full; otherwise the cut that fills the chunk most wins.
- Cuts never fall inside a protected run (``protect.py``: mentions, URLs, Markdown links, inline
  code, fence lines, grapheme clusters, surrogate pairs) unless that run alone is longer than a
  chunk; then the weakest protections are dropped first.
- Round trip: chunk ``i`` is ``prefix_i + text[start_i:end_i] + suffix_i`` where ``prefix_i`` is
  ``""`` or a reopener and ``suffix_i`` is ``""`` or a closer. The text before the first body,
  between two bodies and after the last one is whitespace only. Outside code the whitespace at a
  cut is dropped (Discord trims it anyway); inside code only the line breaks at the cut are dropped
  (the closer and the reopener stand for one; blank lines at a cut are lost), so code keeps its
  indentation.
- Each cut is decided from ``text[start_i : window_end_i + 1]`` plus the whitespace run and the
  line start that follow; ``render_partial`` relies on this to know which chunks are settled.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from bot.render.fences import Fence, next_state, starts_fence_like
from bot.render.protect import FREE, GRAPHEME, SURROGATE, TOKEN, protection_levels

DISCORD_LIMIT = 2000
"""Discord's message content limit, in code points."""

MIN_LIMIT = 64
"""The smallest limit that always leaves room for a reopener, a closer and some text."""

END, PARAGRAPH, LINE, CODE_BLANK, SENTENCE, CODE_LINE, SPACE = range(7)
"""Kinds of cut, best first."""

_WHITESPACE_RUN = re.compile(r"\s+")
_NEWLINE = re.compile("\n")
_SENTENCE_END = ".!?…"
_SENTENCE_CLOSERS = "\"')]*_»”’"


@dataclass(frozen=True)
class Chunk:
    """One message of a split text and where its body came from.

    Attributes:
        start: Offset of the body in the original text.
        end: Offset just past the body.
        prefix: The reopener added before the body, or ``""``.
        body: ``text[start:end]``.
        suffix: The fence closer added after the body, or ``""``.
        window_end: The furthest offset the cut may fall at; the cut was decided from the text up
            to here plus the whitespace run and line start after it.
    """

    start: int
    end: int
    prefix: str
    body: str
    suffix: str
    window_end: int

    @property
    def text(self) -> str:
        """The message content: prefix, body and suffix."""
        return self.prefix + self.body + self.suffix


@dataclass(frozen=True)
class _Cut:
    end: int
    next_start: int
    fence: Fence | None
    kind: int


class _Document:
    """What the splitter precomputes once per text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.levels = protection_levels(text)
        runs = [match.span() for match in _WHITESPACE_RUN.finditer(text)]
        self.run_starts = [start for start, _ in runs]
        self.run_ends = [end for _, end in runs]
        self.newlines = [match.start() for match in _NEWLINE.finditer(text)]

    def rstrip(self, pos: int, floor: int) -> int:
        while pos > floor and self.text[pos - 1].isspace():
            pos -= 1
        return pos

    def lstrip(self, pos: int) -> int:
        while pos < len(self.text) and self.text[pos].isspace():
            pos += 1
        return pos


class _Lines:
    """The fence state at every position of one chunk's window, seen as that chunk's lines."""

    def __init__(self, doc: _Document, start: int, stop: int, fence: Fence | None) -> None:
        self.text = doc.text
        self.starts = [start]
        self.states = [fence]
        state = fence
        line_start = start
        index = bisect_left(doc.newlines, start)
        while index < len(doc.newlines) and doc.newlines[index] < stop:
            newline = doc.newlines[index]
            if starts_fence_like(self.text, line_start):
                state = next_state(self.text[line_start:newline], state)
            line_start = newline + 1
            self.starts.append(line_start)
            self.states.append(state)
            index += 1

    def state_at(self, pos: int) -> Fence | None:
        """The fence open after ``text[start:pos]``, a partial last line counting as a line."""
        index = bisect_right(self.starts, pos) - 1
        line_start, state = self.starts[index], self.states[index]
        if pos > line_start and starts_fence_like(self.text, line_start):
            return next_state(self.text[line_start:pos], state)
        return state


def split_message(text: str, limit: int = DISCORD_LIMIT) -> list[str]:
    """Split ``text`` into message contents of at most ``limit`` code points.

    Returns an empty list when ``text`` is empty or whitespace only. See the module docstring for
    the full contract.

    Raises:
        ValueError: ``limit`` is below ``MIN_LIMIT``.
    """
    return [chunk.text for chunk in split_chunks(text, limit)]


def split_chunks(text: str, limit: int = DISCORD_LIMIT) -> list[Chunk]:
    """Like ``split_message`` but keeps where every chunk's body came from."""
    if limit < MIN_LIMIT:
        raise ValueError(
            f"limit={limit} is too small to split Discord text: the caller must pass at least "
            f"{MIN_LIMIT} (Discord allows {DISCORD_LIMIT})"
        )
    doc = _Document(text)
    content_end = len(text.rstrip())
    chunks: list[Chunk] = []
    fence: Fence | None = None
    start = doc.lstrip(0)
    while start < content_end:
        prefix = fence.reopener() if fence else ""
        window_end = min(len(text), start + limit - len(prefix))
        cut = _next_cut(doc, start, fence, limit, window_end)
        suffix = cut.fence.closer() if cut.fence else ""
        chunks.append(Chunk(start, cut.end, prefix, text[start : cut.end], suffix, window_end))
        fence, start = cut.fence, cut.next_start
    return chunks


def _next_cut(doc: _Document, start: int, fence: Fence | None, limit: int, window_end: int) -> _Cut:
    overhead = len(fence.reopener()) if fence else 0

    def fits(end: int, state: Fence | None) -> bool:
        closer = len(state.closer()) if state else 0
        return overhead + (end - start) + closer <= limit

    lines = _Lines(doc, start, window_end, fence)
    if window_end == len(doc.text):
        end = doc.rstrip(window_end, start)
        state = lines.state_at(end)
        if fits(end, state):
            return _Cut(end, len(doc.text), state, END)
    min_fill = start + (limit - overhead) // 2
    cut = _whitespace_cut(doc, lines, start, window_end, fits, min_fill)
    return cut if cut is not None else _hard_cut(doc, lines, start, window_end, fits)


def _whitespace_cut(
    doc: _Document,
    lines: _Lines,
    start: int,
    window_end: int,
    fits: Callable[[int, Fence | None], bool],
    min_fill: int,
) -> _Cut | None:
    """The best cut at whitespace, scanning runs from the end of the window backwards."""
    best: dict[int, _Cut] = {}
    index = bisect_right(doc.run_starts, window_end) - 1
    while index >= 0 and doc.run_starts[index] > start:
        run_start, run_end = doc.run_starts[index], doc.run_ends[index]
        cut = _run_cut(doc, lines, run_start, run_end, fits)
        if cut is not None and cut.end < min_fill and not best:
            return cut
        if cut is not None and cut.end >= min_fill:
            best.setdefault(cut.kind, cut)
        if PARAGRAPH in best or (run_start < min_fill and best):
            break
        index -= 1
    return best[min(best)] if best else None


def _run_cut(
    doc: _Document,
    lines: _Lines,
    run_start: int,
    run_end: int,
    fits: Callable[[int, Fence | None], bool],
) -> _Cut | None:
    """The valid cut in one whitespace run, if any.

    Outside code the cut drops the whole run. Inside code it drops the line breaks of the run from
    the first to the last (blank lines) and keeps the indentation that follows; a run without a line
    break is cut before it and kept whole in the next chunk.
    """
    state = lines.state_at(run_start)
    if state is None:
        if doc.levels[run_start] != FREE:
            return None
        return _Cut(run_start, run_end, None, _prose_kind(doc.text, run_start, run_end))
    run_newlines = doc.newlines[
        bisect_left(doc.newlines, run_start) : bisect_left(doc.newlines, run_end)
    ]
    if run_newlines:
        first, last = run_newlines[0], run_newlines[-1]
        if doc.levels[first] or doc.levels[last] or not fits(first, state):
            return None
        kind = CODE_BLANK if len(run_newlines) > 1 else CODE_LINE
        return _Cut(first, last + 1, state, kind)
    if doc.levels[run_start] == FREE and fits(run_start, state):
        return _Cut(run_start, run_start, state, SPACE)
    return None


def _prose_kind(text: str, run_start: int, run_end: int) -> int:
    newlines = text.count("\n", run_start, run_end)
    if newlines >= 2:
        return PARAGRAPH
    if newlines == 1:
        line_start = text.rfind("\n", 0, run_start) + 1
        if starts_fence_like(text, run_end) or starts_fence_like(text, line_start):
            return PARAGRAPH
        return LINE
    before = text[run_start - 1]
    if before in _SENTENCE_END:
        return SENTENCE
    if before in _SENTENCE_CLOSERS and run_start >= 2 and text[run_start - 2] in _SENTENCE_END:
        return SENTENCE
    return SPACE


def _hard_cut(
    doc: _Document,
    lines: _Lines,
    start: int,
    window_end: int,
    fits: Callable[[int, Fence | None], bool],
) -> _Cut:
    """The largest cut anywhere, relaxing protections only as far as needed."""
    for allowed in (FREE, TOKEN, GRAPHEME, SURROGATE):
        for pos in range(window_end, start, -1):
            if doc.levels[pos] > allowed:
                continue
            state = lines.state_at(pos)
            end = doc.rstrip(pos, start) if state is None else pos
            next_start = doc.lstrip(pos) if state is None else pos
            if end > start and fits(end, state):
                return _Cut(end, next_start, state, SPACE + 1)
    raise AssertionError(f"no cut fits after offset {start}; limit is below MIN_LIMIT")
