"""Reading what ``/knowledge add`` was given: an attachment, a URL, or a Discord message link.

The cog hands over the raw pieces; this module turns them into a title, a kind, an origin (what
citations show) and chunks, or a ``SourceError`` saying what to send instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.knowledge.chunking import TextChunk, chunk_markdown
from bot.knowledge.sources import SourceError, read_source
from tools.net import FetchError, FetchPolicy, SafeFetcher
from tools.search.html_text import html_to_text

MESSAGE_LINK = re.compile(
    r"^https?://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/channels/(\d+)/(\d+)/(\d+)/?$"
)
PAGE_TYPES = ("text/html", "text/plain", "text/markdown", "application/pdf")
FETCH_TIMEOUT_S = 15.0


@dataclass(frozen=True, slots=True)
class ReadSource:
    """A source ready to embed."""

    title: str
    kind: str
    origin: str
    chunks: list[TextChunk]


@dataclass(frozen=True, slots=True)
class MessageLink:
    """The ids in a Discord message link."""

    guild_id: int
    channel_id: int
    message_id: int


def parse_message_link(text: str) -> MessageLink | None:
    """The ids of a ``https://discord.com/channels/<guild>/<channel>/<message>`` link."""
    match = MESSAGE_LINK.match(text.strip())
    if match is None:
        return None
    return MessageLink(int(match.group(1)), int(match.group(2)), int(match.group(3)))


def from_file(filename: str, content_type: str | None, data: bytes, limit: int) -> ReadSource:
    """An uploaded file (text, Markdown, PDF)."""
    chunks = read_source(filename, content_type, data, limit)
    return ReadSource(filename, "file", f"file:{filename}", chunks)


def from_message(link: str, author: str, content: str, limit: int) -> ReadSource:
    """A Discord message's text, cited by its link."""
    title = f"message by {author}"
    chunks = chunk_markdown(title, content, limit)
    if not chunks:
        raise SourceError("That message has no text to add; link a message with text in it.")
    return ReadSource(title, "message", link, chunks)


async def from_url(url: str, max_bytes: int, limit: int) -> ReadSource:
    """A web page or file fetched through the safe fetcher (no private addresses)."""
    try:
        async with SafeFetcher(policy=FetchPolicy()) as fetcher:
            page = await fetcher.get(
                url, accept=PAGE_TYPES, max_bytes=max_bytes, timeout_s=FETCH_TIMEOUT_S
            )
    except FetchError as error:
        raise SourceError(f"{url} could not be fetched: {error}. Check the link.") from error
    if page.truncated:
        raise SourceError(f"{url} is larger than {max_bytes} bytes; add a smaller page.")
    name = page.final_url.rstrip("/").rsplit("/", 1)[-1] or page.final_url
    if page.content_type == "text/html":
        text = html_to_text(page.text(), max_chars=max_bytes)
        title = text.title or name
        chunks = chunk_markdown(title, text.text, limit)
        if not chunks:
            raise SourceError(f"{url} has no readable text.")
        return ReadSource(title, "page", page.final_url, chunks)
    chunks = read_source(name, page.content_type, page.body, limit)
    return ReadSource(name, "page", page.final_url, chunks)
