"""Reading a response body under a size cap, decompressing it ourselves under the same cap.

aiohttp's automatic decompression is turned off for fetches: a 50 KB gzip body can inflate to
gigabytes, so the fetcher inflates chunk by chunk and never holds more than the cap (+1 byte).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import aiohttp

from tools.net.errors import FetchFailed

ACCEPT_ENCODING = "gzip, deflate"
"""The Accept-Encoding the fetcher sends: the encodings :func:`read_body` can inflate."""
CHUNK_BYTES = 64 * 1024
RAW_SLACK_BYTES = 64 * 1024
_GZIP_OR_ZLIB = zlib.MAX_WBITS | 32


@dataclass(frozen=True)
class Body:
    """A (decoded) body and whether it was cut at the cap."""

    data: bytes
    truncated: bool


def _decoder(content_encoding: str) -> Any:
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(_GZIP_OR_ZLIB)
    raise FetchFailed(
        "the server sent the page in a compression format the fetcher does not read",
        detail=f"Content-Encoding: {content_encoding}",
    )


async def read_body(stream: aiohttp.StreamReader, *, content_encoding: str, max_bytes: int) -> Body:
    """Read ``stream`` until its end or until the decoded size passes ``max_bytes``.

    Args:
        stream: The response's body stream (``response.content``).
        content_encoding: The response's Content-Encoding ("" when aiohttp already decoded).
        max_bytes: Most decoded bytes kept; the compressed input is capped too.

    Raises:
        FetchFailed: For an unknown Content-Encoding or a corrupt compressed body.
    """
    decoder = _decoder(content_encoding)
    data = bytearray()
    raw_total = 0
    async for chunk in stream.iter_chunked(CHUNK_BYTES):
        raw_total += len(chunk)
        if decoder is None:
            data += chunk
        else:
            _inflate(decoder, chunk, data, max_bytes)
        if len(data) > max_bytes or raw_total > max_bytes + RAW_SLACK_BYTES:
            return Body(bytes(data[:max_bytes]), True)
    return Body(bytes(data), False)


def _inflate(decoder: Any, chunk: bytes, out: bytearray, max_bytes: int) -> None:
    pending = chunk
    try:
        while pending and len(out) <= max_bytes and not decoder.eof:
            out += decoder.decompress(pending, max_bytes + 1 - len(out))
            pending = decoder.unconsumed_tail
    except zlib.error:
        raise FetchFailed("the server sent a corrupt compressed body") from None
