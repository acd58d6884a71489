"""Images for the vision model: checked by magic bytes, downscaled and re-encoded (Pillow's shim).

OpenAI's vision models see at most what ``detail: "high"`` keeps: the image fitted within 2048 x
2048, then scaled so its shortest side is at most 768 pixels
(https://platform.openai.com/docs/guides/images-vision#calculating-costs). Sending more pixels
costs bytes and nothing else, so attachments are scaled to that size here, re-encoded (JPEG, or
WebP where the image has transparency) and stripped of metadata (EXIF, GPS position) on the way.

This is the only module that imports Pillow.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_SIDE = 2048
MAX_SHORT_SIDE = 768
# Decoding time grows with pixels: JPEG decodes at a reduced scale (draft mode), so photos up to
# 50 MP take well under a second; PNG, GIF and WebP decode whole (24 MP: about 1-4 s).
MAX_JPEG_PIXELS = 50_000_000
MAX_PIXELS = 24_000_000
JPEG_QUALITY = 85
WEBP_QUALITY = 85
# Magic bytes of the formats OpenAI's vision input accepts, and Pillow's name for each.
_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}


class ImageRejected(ValueError):
    """The bytes are not an image the model can be shown; ``str()`` says why, for the user."""


@dataclass(frozen=True, slots=True)
class PreparedImage:
    """An image as it is stored and sent: encoded bytes, their type and pixel size."""

    data: bytes
    mime: str
    width: int
    height: int


def sniff_mime(data: bytes) -> str | None:
    """The image type ``data`` starts like (PNG, JPEG, GIF, WebP), whatever its name claims."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def fitted_size(width: int, height: int) -> tuple[int, int]:
    """The size OpenAI's high detail scales an image to: within 2048 square, short side <= 768."""
    scale = min(1.0, MAX_SIDE / max(width, height), MAX_SHORT_SIDE / min(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def probe(data: bytes) -> tuple[str, int, int] | None:
    """Type and pixel size from an image's header (nothing is decoded), or ``None``."""
    mime = sniff_mime(data)
    if mime is None:
        return None
    try:
        with Image.open(io.BytesIO(data), formats=[_FORMATS[mime]]) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    return mime, width, height


def prepare(data: bytes) -> PreparedImage:
    """The image re-encoded at the size the model uses (CPU-bound: run it in a worker thread).

    Raises:
        ImageRejected: Not a PNG, JPEG, GIF or WebP image, too many pixels, or undecodable.
    """
    mime = sniff_mime(data)
    if mime is None:
        raise ImageRejected("not a PNG, JPEG, GIF or WebP image")
    try:
        with Image.open(io.BytesIO(data), formats=[_FORMATS[mime]]) as opened:
            width, height = opened.size
            limit = MAX_JPEG_PIXELS if mime == "image/jpeg" else MAX_PIXELS
            if width * height > limit:
                raise ImageRejected(f"{width}x{height} pixels is more than {limit:,} pixels")
            target = fitted_size(width, height)
            opened.draft("RGB", target)
            image = ImageOps.exif_transpose(opened)
            if (image.size[0] >= image.size[1]) != (width >= height):
                target = (target[1], target[0])  # turned upright by its EXIF orientation
            return _encode(_resized(image, target))
    except ImageRejected:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ImageRejected("the image could not be decoded") from None


def _resized(image: Image.Image, target: tuple[int, int]) -> Image.Image:
    transparent = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    converted = image.convert("RGBA" if transparent else "RGB")
    if converted.size == target:
        return converted
    return converted.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(image: Image.Image) -> PreparedImage:
    buffer = io.BytesIO()
    if image.mode == "RGBA":
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
        mime = "image/webp"
    else:
        image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
        mime = "image/jpeg"
    return PreparedImage(buffer.getvalue(), mime, image.size[0], image.size[1])


def data_url(mime: str, data: bytes) -> str:
    """``data:<mime>;base64,<data>``, the form chat requests carry images in."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def data_url_length(mime: str, size: int) -> int:
    """Characters of the data URL of ``size`` bytes of type ``mime`` (without building it)."""
    return len(f"data:{mime};base64,") + 4 * ((size + 2) // 3)


def decode_data_url(url: str) -> tuple[str, bytes] | None:
    """``(mime, bytes)`` of a base64 ``data:`` URL, or ``None`` if it is not one."""
    head, comma, payload = url.partition(",")
    if not comma or not head.startswith("data:") or not head.endswith(";base64"):
        return None
    try:
        return head[5:-7], base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None
