"""Small, valid PDF files for tests: pages of text, or scanned pages (an image, no text layer).

Written by hand (objects, content streams and a byte-exact cross-reference table), so tests need
no PDF writer: ``text_pdf(["first page", "second page"])``, ``scanned_pdf(2)``.
"""

from __future__ import annotations

import zlib


def text_pdf(pages: list[str]) -> bytes:
    """A PDF whose page N shows ``pages[N-1]`` in Helvetica (one text line per input line)."""
    streams = [_text_stream(text) for text in pages]
    return _document(streams, font=True)


def scanned_pdf(page_count: int) -> bytes:
    """A PDF of ``page_count`` pages, each only a grey 8x8 image: no text layer, like a scan."""
    return _document([b"q 500 0 0 700 50 50 cm /Im1 Do Q" for _ in range(page_count)], font=False)


def _text_stream(text: str) -> bytes:
    lines = [
        line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        for line in text.splitlines()
    ]
    shown = " ".join(f"({line}) Tj 0 -16 Td" for line in lines)
    return f"BT /F1 12 Tf 72 720 Td {shown} ET".encode("latin-1")


def _document(streams: list[bytes], *, font: bool) -> bytes:
    count = len(streams)
    objects: list[bytes] = []
    first_page = 3
    kids = " ".join(f"{first_page + 2 * index} 0 R" for index in range(count))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode())
    shared = first_page + 2 * count
    resources = (
        f"<< /Font << /F1 {shared} 0 R >> >>" if font else f"<< /XObject << /Im1 {shared} 0 R >> >>"
    )
    for index, stream in enumerate(streams):
        content = first_page + 2 * index + 1
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources {resources} "
            f"/Contents {content} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    if font:
        objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    else:
        pixels = zlib.compress(bytes([128]) * 64)
        objects.append(
            b"<< /Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
            % len(pixels)
            + pixels
            + b"\nendstream"
        )
    return _assemble(objects)


def _assemble(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
