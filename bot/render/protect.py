"""Where the splitter must not cut, as a protection level for every position of a text.

Position ``p`` is the cut between ``text[p - 1]`` and ``text[p]``. Levels, weakest first:

- ``TOKEN``: inside a Discord mention, channel link, custom emoji or timestamp (``<@123>``,
  ``<@!1>``, ``<@&1>``, ``<#1>``, ``<:name:1>``, ``<a:name:1>``, ``<t:1:R>``, ``</cmd:1>``), a URL
  (bare, ``<...>``-wrapped or defanged), a Markdown link, a short inline code span, a neutralised
  ``@everyone``, the head of a fence line, or right after an opening / right before a closing fence
  line (a cut there would leave an empty code block).
- ``GRAPHEME``: inside a grapheme cluster, approximated cheaply: before a combining mark, variation
  selector, emoji modifier or tag character; around a zero-width joiner; inside a regional-indicator
  pair (a flag). (CR LF is whitespace, which cuts drop or keep whole.)
- ``SURROGATE``: between the halves of a surrogate pair stored as two code points.

The splitter relaxes these levels one by one only when a single protected run is longer than a
whole chunk.
"""

from __future__ import annotations

import re
import unicodedata

from bot.render.fences import code_block_spans

FREE = 0
TOKEN = 1
GRAPHEME = 2
SURROGATE = 3

FENCE_HEAD = 200
"""How much of a fence-like line is kept whole."""

_TOKENS = re.compile(
    r"<(?:@[!&]?\d{1,20}|#\d{1,20}|a?:[A-Za-z0-9_~]{1,32}:\d{1,20}"
    r"|t:-?\d{1,20}(?::[A-Za-z])?|/[^<>\n]{1,100}:\d{1,20}|id:[a-z_]{1,32})>"
    r"|<(?:https?|hxxps?)://[^\s<>]*>"
    r"|(?:https?|hxxps?)://[^\s<>`]*"
    r"|!?\[[^\[\]\n]{0,256}\]\(<?[^\s()<>]{0,2048}>?\)"
    r"|(`{1,2})(?!`)[^`\n]{1,256}?(?<!`)\1(?!`)"
    r"|@\u200b(?:everyone|here)",
    re.IGNORECASE,
)
_FENCE_LIKE_LINE = re.compile(r"^[ \t]*(?:`{3}|~{3})[^\n]*", re.MULTILINE)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_FLAG_PAIR = re.compile("[\U0001f1e6-\U0001f1ff]{2}")
_ZWJ = "\u200d"


def protection_levels(text: str) -> bytearray:
    """One protection level per cut position ``0..len(text)`` (see the module docstring)."""
    levels = bytearray(len(text) + 1)
    _mark_tokens(text, levels)
    _mark_fence_lines(text, levels)
    _mark_graphemes(text, levels)
    for match in _SURROGATE_PAIR.finditer(text):
        levels[match.start() + 1] = SURROGATE
    return levels


def _protect_inside(levels: bytearray, start: int, end: int, level: int) -> None:
    if end - start > 1:
        levels[start + 1 : end] = bytes([level]) * (end - start - 1)


def _mark_tokens(text: str, levels: bytearray) -> None:
    for match in _TOKENS.finditer(text):
        _protect_inside(levels, match.start(), match.end(), TOKEN)


def _mark_fence_lines(text: str, levels: bytearray) -> None:
    for match in _FENCE_LIKE_LINE.finditer(text):
        _protect_inside(levels, match.start(), min(match.end(), match.start() + FENCE_HEAD), TOKEN)
    for start, end in code_block_spans(text):
        opener_end = text.find("\n", start, end)
        if opener_end < 0:
            continue
        levels[opener_end] = TOKEN
        closer_start = text.rfind("\n", opener_end + 1, end)
        if end < len(text) and closer_start > opener_end:
            levels[closer_start] = TOKEN


def _joins_previous(char: str) -> bool:
    code = ord(char)
    if 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F or char == _ZWJ:
        return True
    return unicodedata.category(char).startswith("M")


def _mark_graphemes(text: str, levels: bytearray) -> None:
    for match in _NON_ASCII.finditer(text):
        index = match.start()
        char = text[index]
        if index > 0 and _joins_previous(char):
            levels[index] = GRAPHEME
        if char == _ZWJ and index + 1 < len(text):
            levels[index + 1] = GRAPHEME
    for match in _FLAG_PAIR.finditer(text):
        levels[match.start() + 1] = GRAPHEME
