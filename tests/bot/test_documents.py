"""PDF attachments as text (issue 21): pages numbered, caps noted, scans said so, time bounded."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.documents import PdfLimits, PdfUnreadable, pdf_message, read_pdf, read_pdf_bounded
from bot.testing.fakes.pdf import scanned_pdf, text_pdf


def test_pages_keep_their_numbers() -> None:
    limits = PdfLimits()
    pdf = read_pdf(text_pdf(["Alpha one.", "Beta two.\nSecond line."]), limits)
    assert pdf.pages == [(1, "Alpha one."), (2, "Beta two.\nSecond line.")]
    assert pdf_message("a.pdf", pdf, limits) == (
        "Attached PDF a.pdf (2 pages); cite pages by number:\n```\n--- page 1 ---\nAlpha one.\n"
        "--- page 2 ---\nBeta two.\nSecond line.\n```"
    )


def test_the_page_cap_says_which_pages_were_not_read() -> None:
    limits = PdfLimits(max_pages=2)
    pdf = read_pdf(text_pdf(["one", "two", "three", "four"]), limits)
    assert [number for number, _ in pdf.pages] == [1, 2]
    assert pdf_message("long.pdf", pdf, limits).endswith(
        "\n[PDF cut: only pages 1-2 of 4 were read (at most 2 pages); pages 3-4 not read]"
    )


def test_the_character_cap_cuts_inside_a_page_and_says_where() -> None:
    limits = PdfLimits(max_chars=12)
    pdf = read_pdf(text_pdf(["0123456789", "abcdefghij", "rest"]), limits)
    assert pdf.pages == [(1, "0123456789"), (2, "ab")] and pdf.cut_at_page == 2
    assert pdf_message("c.pdf", pdf, limits).endswith(
        "\n[PDF cut: the text stops at 12 characters, in page 2; pages 3-3 not read]"
    )


def test_a_scanned_pdf_is_said_to_have_no_text_layer() -> None:
    limits = PdfLimits()
    pdf = read_pdf(scanned_pdf(3), limits)
    assert pdf.scanned and pdf.total_pages == 3
    assert pdf_message("scan.pdf", pdf, limits).startswith(
        "[PDF scan.pdf (3 pages) has no text layer: it is probably scanned images"
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"hello, not a pdf", "the file is not a PDF"),
        (b"%PDF-1.4\n1 0 obj garbage", "the PDF is damaged and could not be read"),
    ],
)
def test_files_that_are_no_readable_pdf_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(PdfUnreadable) as caught:
        read_pdf(data, PdfLimits())
    assert str(caught.value) == reason


async def test_reading_is_bounded_in_time_on_its_own_thread() -> None:
    executor = ThreadPoolExecutor(max_workers=1)
    release = threading.Event()
    executor.submit(release.wait, 30)  # the reading thread is busy: the read cannot finish
    try:
        with pytest.raises(PdfUnreadable) as caught:
            await read_pdf_bounded(text_pdf(["x"]), PdfLimits(timeout_s=0.2), executor)
        assert str(caught.value) == (
            "reading it took longer than 0.2 s (the file may be malformed)"
        )
    finally:
        release.set()
        executor.shutdown(wait=True, cancel_futures=True)


def test_a_stopped_read_ends_before_the_next_page() -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(PdfUnreadable, match="reading was stopped"):
        read_pdf(text_pdf(["one", "two"]), PdfLimits(), stop)
