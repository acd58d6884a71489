"""Write a real PNG (8-bit RGB, one colour) with ``zlib`` and ``struct``."""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def solid_png(
    width: int = 64, height: int = 64, rgb: tuple[int, int, int] = (64, 128, 192)
) -> bytes:
    """Return a PNG file of ``width`` x ``height`` pixels all of colour ``rgb``."""
    if width < 1 or height < 1:
        raise ValueError("a PNG needs at least one pixel: pass width and height >= 1")
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + bytes(rgb) * width  # filter type 0, then the pixels
    pixels = zlib.compress(row * height, 6)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def png_size(data: bytes) -> tuple[int, int]:
    """Return ``(width, height)`` of a PNG file; raise ``ValueError`` if it is not one."""
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)
