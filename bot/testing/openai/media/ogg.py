"""Ogg pages (RFC 3533) and a real Ogg/Opus file of silence (RFC 7845).

The file has an ``OpusHead`` page (beginning of stream), an ``OpusTags`` page and audio pages of
20 ms CELT silence packets ``F8 FF FE`` (the packet Discord and most Opus senders use for silence),
48 kHz mono, like a Discord voice message. Page checksums are the Ogg CRC-32 (polynomial
0x04C11DB7, no reflection, initial value 0), so strict demuxers accept the file.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache

OGG_CAPTURE = b"OggS"
OPUS_HEAD = b"OpusHead"
OPUS_TAGS = b"OpusTags"
OPUS_SILENCE_PACKET = b"\xf8\xff\xfe"
OPUS_RATE = 48_000
OPUS_SAMPLES_PER_PACKET = 960  # 20 ms at 48 kHz
OPUS_PRE_SKIP = 312
PACKETS_PER_PAGE = 50  # one second of audio per page
FLAG_CONTINUED, FLAG_BOS, FLAG_EOS = 0x01, 0x02, 0x04
_HEADER = struct.Struct("<4sBBqIIIB")


@cache
def _crc_table() -> tuple[int, ...]:
    table = []
    for index in range(256):
        value = index << 24
        for _ in range(8):
            value = ((value << 1) ^ 0x04C11DB7) if value & 0x80000000 else value << 1
        table.append(value & 0xFFFFFFFF)
    return tuple(table)


def ogg_crc(data: bytes) -> int:
    """Return the Ogg CRC-32 of ``data`` (a page with its checksum field zeroed)."""
    table = _crc_table()
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[((crc >> 24) & 0xFF) ^ byte]
    return crc


def ogg_page(
    packets: Sequence[bytes], *, serial: int, sequence: int, granule: int, flags: int
) -> bytes:
    """Return one Ogg page holding complete ``packets`` (at most 255 lacing values in total)."""
    lacing = bytearray()
    for packet in packets:
        lacing.extend(b"\xff" * (len(packet) // 255))
        lacing.append(len(packet) % 255)
    if len(lacing) > 255:
        raise ValueError("too many packets for one Ogg page: split them over more pages")
    header = _HEADER.pack(OGG_CAPTURE, 0, flags, granule, serial, sequence, 0, len(lacing))
    page = bytearray(header + bytes(lacing) + b"".join(packets))
    struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
    return bytes(page)


@dataclass(frozen=True)
class OggPage:
    """One parsed Ogg page."""

    flags: int
    granule: int
    serial: int
    sequence: int
    crc_ok: bool
    body: bytes


def iter_ogg_pages(data: bytes) -> Iterator[OggPage]:
    """Yield the pages of an Ogg file; raise ``ValueError`` on a malformed page."""
    offset = 0
    while offset < len(data):
        if data[offset : offset + 4] != OGG_CAPTURE or offset + _HEADER.size > len(data):
            raise ValueError(f"no Ogg page at byte {offset}")
        _, _, flags, granule, serial, sequence, crc, segments = _HEADER.unpack_from(data, offset)
        table_end = offset + _HEADER.size + segments
        body_end = table_end + sum(data[offset + _HEADER.size : table_end])
        if body_end > len(data):
            raise ValueError(f"Ogg page at byte {offset} is truncated")
        page = bytearray(data[offset:body_end])
        struct.pack_into("<I", page, 22, 0)
        yield OggPage(
            flags, granule, serial, sequence, ogg_crc(bytes(page)) == crc, data[table_end:body_end]
        )
        offset = body_end


def opus_head(
    channels: int = 1, pre_skip: int = OPUS_PRE_SKIP, input_rate: int = OPUS_RATE
) -> bytes:
    """Return an ``OpusHead`` identification packet (mapping family 0)."""
    return OPUS_HEAD + struct.pack("<BBHIhB", 1, channels, pre_skip, input_rate, 0, 0)


def opus_tags(vendor: str = "toolcord OpenAI emulator") -> bytes:
    """Return an ``OpusTags`` comment packet with no user comments."""
    encoded = vendor.encode()
    return OPUS_TAGS + struct.pack("<I", len(encoded)) + encoded + struct.pack("<I", 0)


def silent_ogg_opus(seconds: float = 1.0, *, serial: int = 0x746F6F6C) -> bytes:
    """Return an Ogg/Opus file with ``seconds`` of mono silence (rounded to 20 ms, at least one)."""
    packet_count = max(1, round(seconds * OPUS_RATE / OPUS_SAMPLES_PER_PACKET))
    pages = [
        ogg_page([opus_head()], serial=serial, sequence=0, granule=0, flags=FLAG_BOS),
        ogg_page([opus_tags()], serial=serial, sequence=1, granule=0, flags=0),
    ]
    written = 0
    while written < packet_count:
        count = min(PACKETS_PER_PAGE, packet_count - written)
        written += count
        flags = FLAG_EOS if written == packet_count else 0
        granule = OPUS_PRE_SKIP + written * OPUS_SAMPLES_PER_PACKET
        packets = [OPUS_SILENCE_PACKET] * count
        pages.append(
            ogg_page(packets, serial=serial, sequence=len(pages), granule=granule, flags=flags)
        )
    return b"".join(pages)


def ogg_opus_duration(data: bytes) -> float | None:
    """Return the playback length of an Ogg/Opus file in seconds, or None if it is not one."""
    try:
        pages = list(iter_ogg_pages(data))
    except ValueError:
        return None
    if not pages or not pages[0].body.startswith(OPUS_HEAD) or len(pages[0].body) < 19:
        return None
    pre_skip = struct.unpack_from("<H", pages[0].body, 10)[0]
    last_granule = max(page.granule for page in pages)
    return max(0.0, (last_granule - pre_skip) / OPUS_RATE)
