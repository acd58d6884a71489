"""Splitting a source into chunks that each carry a title (document > heading > subheading).

Markdown headings (``#`` to ``######``) open sections; a section longer than the limit is cut at
blank lines, then at line ends, then hard. Every chunk's title names where it came from, so a
cited chunk says "faq.md > Refunds" rather than quoting text out of context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True, slots=True)
class TextChunk:
    """A piece of a source with the heading path it sits under."""

    title: str
    text: str


def chunk_markdown(document: str, text: str, limit: int) -> list[TextChunk]:
    """Chunks of a Markdown or plain-text source named ``document``, at most ``limit`` chars."""
    chunks: list[TextChunk] = []
    path: list[str] = []
    lines: list[str] = []

    def flush() -> None:
        body = "\n".join(lines).strip()
        lines.clear()
        if body:
            title = " > ".join([document, *path])
            chunks.extend(TextChunk(title, piece) for piece in split_text(body, limit))

    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading is None:
            lines.append(line)
            continue
        flush()
        depth = len(heading.group(1))
        path[:] = [*path[: depth - 1], heading.group(2)]
    flush()
    return chunks


def chunk_pages(document: str, pages: list[str], limit: int) -> list[TextChunk]:
    """Chunks of a paged source (PDF): each page's text, titled ``document > page N``."""
    chunks: list[TextChunk] = []
    for number, page in enumerate(pages, start=1):
        body = page.strip()
        if body:
            title = f"{document} > page {number}"
            chunks.extend(TextChunk(title, piece) for piece in split_text(body, limit))
    return chunks


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at paragraphs, lines, then hard."""
    pieces: list[str] = []
    current = ""
    for block in _blocks(text, limit):
        joined = f"{current}\n\n{block}" if current else block
        if len(joined) <= limit:
            current = joined
            continue
        if current:
            pieces.append(current)
        current = block
    if current:
        pieces.append(current)
    return pieces


def _blocks(text: str, limit: int) -> list[str]:
    blocks: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if len(paragraph) <= limit:
            blocks.extend([paragraph] if paragraph else [])
            continue
        for line in paragraph.splitlines():
            blocks.extend(line[i : i + limit] for i in range(0, len(line), limit) if line.strip())
    return blocks
