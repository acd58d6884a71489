"""Image bytes: recognise the format by its magic bytes and read a PNG's header."""

from __future__ import annotations

import struct
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}
_ALPHA_COLOR_TYPES = frozenset({4, 6})


@dataclass(frozen=True, slots=True)
class PngHeader:
    """What a PNG's IHDR chunk says (and whether a tRNS chunk adds transparency)."""

    width: int
    height: int
    has_alpha: bool


def image_kind(data: bytes) -> str | None:
    """``png``, ``jpeg``, ``webp`` or ``gif`` for an image's bytes, else None."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


def content_type_of(data: bytes) -> str | None:
    """The MIME type of an image's bytes, or None if they are no known image."""
    kind = image_kind(data)
    return CONTENT_TYPES.get(kind) if kind else None


def png_header(data: bytes) -> PngHeader | None:
    """The PNG's size and transparency, or None if ``data`` is not a well-formed PNG start."""
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR" or len(data) < 29:
        return None
    width, height = struct.unpack(">II", data[16:24])
    color_type = data[25]
    has_alpha = color_type in _ALPHA_COLOR_TYPES or _has_chunk(data, b"tRNS")
    return PngHeader(int(width), int(height), has_alpha)


def _has_chunk(data: bytes, kind: bytes) -> bool:
    position = len(PNG_SIGNATURE)
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        chunk = data[position + 4 : position + 8]
        if chunk == kind:
            return True
        if chunk in (b"IDAT", b"IEND"):
            return False
        position += 12 + length
    return False
