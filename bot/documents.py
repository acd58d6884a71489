"""PDF attachments as text for the model (pypdf's shim: the only module that imports pypdf).

A PDF becomes its text page by page, each page under a ``--- page N ---`` line so the model can
cite it, within a page cap and a character cap; what was cut is said in a note at the end. A PDF
whose pages hold no text (a scan) is said to be one, so the model tells the user instead of
guessing. Reading runs on a thread of its own (never the default executor DNS lookups wait for)
under a time bound: a hostile file is noted, not waited for. The thread of a file that overran
is told to stop and does so after its current page.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.errors import PdfReadError, PyPdfError

log = logging.getLogger("toolcord.documents")

PDF_MAGIC = b"%PDF-"
PAGE_HEADER = "--- page {number} ---"


@dataclass(frozen=True, slots=True)
class PdfLimits:
    """How much of a PDF is read."""

    max_pages: int = 20
    max_chars: int = 20_000
    timeout_s: float = 10.0


@dataclass(frozen=True, slots=True)
class PdfText:
    """What was read from a PDF.

    Attributes:
        pages: ``(page number, text)`` of the pages read, numbered from 1.
        total_pages: Pages the file has.
        cut_at_page: The page where the character cap cut the text (0: not cut).
        scanned: No page read had any text: the PDF is (probably) scanned images.
    """

    pages: list[tuple[int, str]]
    total_pages: int
    cut_at_page: int = 0
    scanned: bool = False


class PdfUnreadable(ValueError):
    """The file is no PDF pypdf can read; ``str()`` says why, for the user."""


def is_pdf(data: bytes) -> bool:
    """True when ``data`` starts like a PDF (its magic bytes, whatever the name says)."""
    return data[:1024].lstrip(b"\x00\t\n\r ").startswith(PDF_MAGIC)


def read_pdf(data: bytes, limits: PdfLimits, stop: threading.Event | None = None) -> PdfText:
    """The text of the first ``limits.max_pages`` pages, within ``limits.max_chars``.

    CPU-bound: run it on a worker thread (:func:`read_pdf_bounded`), which sets ``stop`` when
    the time is up; reading then ends after the current page.

    Raises:
        PdfUnreadable: Not a PDF, encrypted with a password, broken beyond reading, or stopped.
    """
    if not is_pdf(data):
        raise PdfUnreadable("the file is not a PDF")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise PdfUnreadable("the PDF is protected by a password")
        total = len(reader.pages)
        pages: list[tuple[int, str]] = []
        used = 0
        for index in range(min(total, limits.max_pages)):
            if stop is not None and stop.is_set():
                raise PdfUnreadable("reading was stopped")
            text = _clean(reader.pages[index].extract_text() or "")
            room = limits.max_chars - used
            if len(text) > room:
                pages.append((index + 1, text[:room]))
                return PdfText(pages, total, cut_at_page=index + 1)
            pages.append((index + 1, text))
            used += len(text)
    except PdfUnreadable:
        raise
    except (PyPdfError, PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        log.info("could not read a PDF: %s: %s", type(exc).__name__, exc)
        raise PdfUnreadable("the PDF is damaged and could not be read") from None
    return PdfText(pages, total, scanned=total > 0 and not any(text for _, text in pages))


def _clean(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


async def read_pdf_bounded(data: bytes, limits: PdfLimits, executor: ThreadPoolExecutor) -> PdfText:
    """:func:`read_pdf` on ``executor`` within ``limits.timeout_s``.

    Raises:
        PdfUnreadable: As :func:`read_pdf`, or when reading took longer than allowed.
    """
    stop = threading.Event()
    future = asyncio.get_running_loop().run_in_executor(executor, read_pdf, data, limits, stop)
    try:
        return await asyncio.wait_for(future, limits.timeout_s)
    except TimeoutError:
        stop.set()
        raise PdfUnreadable(
            f"reading it took longer than {limits.timeout_s:g} s (the file may be malformed)"
        ) from None


def pdf_message(filename: str, pdf: PdfText, limits: PdfLimits) -> str:
    """The text a user turn carries for the PDF: pages under their numbers, then what was cut."""
    if pdf.total_pages == 0:
        return f"[PDF {filename}: it has no pages]"
    if pdf.scanned:
        return (
            f"[PDF {filename} ({_pages(pdf.total_pages)}) has no text layer: it is probably "
            "scanned images, so its text could not be read. Tell the user; they can paste the "
            "text or attach the pages as images.]"
        )
    body = "\n".join(
        f"{PAGE_HEADER.format(number=number)}\n{text or '[no text on this page]'}"
        for number, text in pdf.pages
    )
    head = f"Attached PDF {filename} ({_pages(pdf.total_pages)}); cite pages by number:"
    note = _cut_note(pdf, limits)
    quoted = body.replace("```", "` ` `")
    return f"{head}\n```\n{quoted}\n```" + (f"\n{note}" if note else "")


def _cut_note(pdf: PdfText, limits: PdfLimits) -> str:
    last_read = pdf.pages[-1][0] if pdf.pages else 0
    if pdf.cut_at_page:
        rest = pdf.total_pages - pdf.cut_at_page
        after = f"; pages {pdf.cut_at_page + 1}-{pdf.total_pages} not read" if rest else ""
        return (
            f"[PDF cut: the text stops at {limits.max_chars:,} characters, in page "
            f"{pdf.cut_at_page}{after}]"
        )
    if last_read < pdf.total_pages:
        return (
            f"[PDF cut: only pages 1-{last_read} of {pdf.total_pages} were read (at most "
            f"{limits.max_pages} pages); pages {last_read + 1}-{pdf.total_pages} not read]"
        )
    return ""


def _pages(count: int) -> str:
    return f"{count} page" if count == 1 else f"{count} pages"
