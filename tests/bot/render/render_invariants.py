"""Checks shared by the render unit and property tests.

Round trip, precisely: for ``chunks = split_chunks(text, limit)``

1. ``chunk.text == chunk.prefix + text[chunk.start:chunk.end] + chunk.suffix`` and
   ``split_message(text, limit) == [chunk.text for chunk in chunks]``;
2. ``prefix`` is ``""`` or a reopener line (3-10 backticks or tildes, a language, a newline) and
   ``suffix`` is ``""`` or a closer (a newline, 3-10 backticks or tildes);
3. the bodies are in order and do not overlap; ``text`` before the first body, between two bodies
   and after the last body is whitespace only (all of ``text`` is whitespace when there are no
   chunks);
4. when a chunk ends inside code (it has a suffix), the gap after it holds only line breaks plus
   the spaces of blank lines, so code indentation survives.
"""

from __future__ import annotations

import itertools
import re

from bot.render.fences import open_fence_after
from bot.render.split import Chunk

REOPENER = re.compile(r"(?:`{3,10}|~{3,10})[A-Za-z0-9_+\-.#]{0,24}\n")
CLOSER = re.compile(r"\n(?:`{3,10}|~{3,10})")
CLICKABLE = re.compile(r"https?://([^\s<>`]*)", re.IGNORECASE)
MASS_MENTION = re.compile(r"@(?:everyone|here)", re.IGNORECASE)
MAX_OVERHEAD = 46
"""Longest reopener (10 + 24 + 1) plus longest closer (1 + 10)."""


def check_chunks(text: str, limit: int, chunks: list[Chunk]) -> None:
    """Assert every split invariant (sizes, content, fences, round trip) for ``chunks``."""
    for chunk in chunks:
        message = chunk.text
        assert len(message) <= limit, (len(message), limit)
        assert message.strip(), f"whitespace-only chunk {message!r}"
        assert open_fence_after(message) is None, f"unbalanced fences in {message!r}"
        assert chunk.body == text[chunk.start : chunk.end]
        assert chunk.prefix == "" or REOPENER.fullmatch(chunk.prefix), chunk.prefix
        assert chunk.suffix == "" or CLOSER.fullmatch(chunk.suffix), chunk.suffix
    check_round_trip(text, chunks)


def check_round_trip(text: str, chunks: list[Chunk]) -> None:
    """Assert the round-trip definition of the module docstring."""
    if not chunks:
        assert text.strip() == ""
        return
    gaps = [text[: chunks[0].start]]
    for before, after in itertools.pairwise(chunks):
        assert before.end <= after.start, (before, after)
        gap = text[before.end : after.start]
        gaps.append(gap)
        if before.suffix:
            assert set(gap) <= {"\n", " ", "\t"}, repr(gap)
            assert gap == "" or gap.startswith("\n"), repr(gap)
    gaps.append(text[chunks[-1].end :])
    for gap in gaps:
        assert gap.strip() == "", f"dropped non-whitespace {gap!r}"
    rebuilt = gaps[0] + "".join(c.body + gap for c, gap in zip(chunks, gaps[1:], strict=True))
    assert rebuilt == text


def check_whole(tokens: list[str], text: str, messages: list[str]) -> None:
    """Assert each token occurs in the messages as often as in ``text``: none was cut."""
    for token in set(tokens):
        in_messages = sum(message.count(token) for message in messages)
        assert in_messages == text.count(token), f"token {token!r} was cut"


def check_spans_whole(spans: list[tuple[int, int]], chunks: list[Chunk]) -> None:
    """Assert each ``(start, end)`` span of the text lies inside a single chunk's body."""
    for start, end in spans:
        assert any(c.start <= start and end <= c.end for c in chunks), f"span {start}:{end} cut"


def host_allowed(authority: str, allow_hosts: list[str]) -> bool:
    """An independent reading of the allow-list rule, used to check the defanger."""
    authority = re.split(r"[/?#\\]", authority, maxsplit=1)[0]
    if "@" in authority:
        return False
    host = authority.split(":", 1)[0].lower().rstrip(".")
    if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)*", host):
        return False
    return any(host == entry or host.endswith("." + entry) for entry in allow_hosts)


def clickable_violations(message: str, allow_hosts: list[str]) -> list[str]:
    """Every ``http(s)://`` link in ``message`` whose host is not allowed."""
    return [
        match.group(0)
        for match in CLICKABLE.finditer(message)
        if not host_allowed(match.group(1), allow_hosts)
    ]
