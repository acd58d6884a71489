"""Reading a knowledge source's bytes into titled chunks: text, Markdown and PDF (``pypdf``)."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from bot.errors import ToolcordError
from bot.knowledge.chunking import TextChunk, chunk_markdown, chunk_pages

log = logging.getLogger("toolcord.knowledge")
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".rst", ".csv", ".json", ".yaml", ".yml", ".toml")


class SourceError(ToolcordError):
    """A source cannot be read; the message tells the admin what to send instead."""


def read_source(
    filename: str, content_type: str | None, data: bytes, limit: int
) -> list[TextChunk]:
    """The chunks of an uploaded or fetched file.

    Raises:
        SourceError: Not text, Markdown or PDF; unreadable; or no text in it.
    """
    lowered = filename.lower()
    kind = (content_type or "").split(";")[0].strip().lower()
    if lowered.endswith(".pdf") or kind == "application/pdf" or data.startswith(b"%PDF-"):
        chunks = chunk_pages(filename, _pdf_pages(filename, data), limit)
    elif lowered.endswith(TEXT_SUFFIXES) or kind.startswith("text/") or not kind:
        chunks = chunk_markdown(filename, _decode(filename, data), limit)
    else:
        raise SourceError(
            f"{filename} is {kind or 'of an unknown type'}; /knowledge add reads text, Markdown "
            "and PDF files. Send it in one of those."
        )
    if not chunks:
        raise SourceError(f"{filename} has no text to add; send a file with text in it.")
    return chunks


def _decode(filename: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(
            f"{filename} is not UTF-8 text; save it as UTF-8 (or send a PDF) and add it again."
        ) from None


def _pdf_pages(filename: str, data: bytes) -> list[str]:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise SourceError(f"{filename} is encrypted; send a PDF without a password.")
        return [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as error:
        log.info("unreadable PDF %s: %s", filename, error)
        raise SourceError(
            f"{filename} could not be read as a PDF ({type(error).__name__}); export it again "
            "or send its text as a .md or .txt file."
        ) from error
