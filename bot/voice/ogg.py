"""Reading Ogg/Opus files (RFC 3533 pages, RFC 7845 Opus mapping) without decoding any audio.

Enough to tell Opus from other Ogg codecs, measure the playback length from the granule position
(always counted at 48 kHz for Opus) and list the audio packets (for the waveform).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

OGG_CAPTURE = b"OggS"
OPUS_HEAD = b"OpusHead"
OPUS_TAGS = b"OpusTags"
OPUS_RATE = 48_000
NO_GRANULE = -1
_PAGE_HEADER = struct.Struct("<4sBBqIIIB")


@dataclass(frozen=True)
class OggPage:
    """One Ogg page: its granule position and the lacing values and body of its segments."""

    granule: int
    lacing: bytes
    body: bytes


def iter_pages(data: bytes) -> Iterator[OggPage]:
    """Yield the well-formed pages of ``data`` in order; stop at the first malformed one."""
    offset = 0
    while offset + _PAGE_HEADER.size <= len(data):
        capture, _, _, granule, _, _, _, segments = _PAGE_HEADER.unpack_from(data, offset)
        if capture != OGG_CAPTURE:
            return
        table_end = offset + _PAGE_HEADER.size + segments
        lacing = data[offset + _PAGE_HEADER.size : table_end]
        body_end = table_end + sum(lacing)
        if len(lacing) < segments or body_end > len(data):
            return
        yield OggPage(granule, lacing, data[table_end:body_end])
        offset = body_end


def iter_packets(data: bytes) -> Iterator[bytes]:
    """Yield the complete packets of the first logical stream, joined across pages."""
    pending = bytearray()
    for page in iter_pages(data):
        position = 0
        for value in page.lacing:
            pending += page.body[position : position + value]
            position += value
            if value < 255:
                yield bytes(pending)
                pending.clear()


def codec(data: bytes) -> str | None:
    """The codec of an Ogg file from its first packet: "opus", "vorbis", "flac", or None."""
    first = next(iter_packets(data), b"")
    if first.startswith(OPUS_HEAD):
        return "opus"
    if first.startswith(b"\x01vorbis"):
        return "vorbis"
    if first.startswith(b"\x7fFLAC"):
        return "flac"
    return None


def opus_duration(data: bytes) -> float | None:
    """Playback length of an Ogg/Opus file in seconds, or None if it is not one.

    The last granule position counts 48 kHz samples including the encoder's pre-skip, which the
    ``OpusHead`` packet states.
    """
    head = next(iter_packets(data), b"")
    if not head.startswith(OPUS_HEAD) or len(head) < 19:
        return None
    pre_skip = struct.unpack_from("<H", head, 10)[0]
    granules = [page.granule for page in iter_pages(data) if page.granule != NO_GRANULE]
    if not granules:
        return None
    return max(0.0, (max(granules) - pre_skip) / OPUS_RATE)


def opus_audio_packets(data: bytes) -> list[bytes]:
    """The audio packets of an Ogg/Opus file (the ``OpusHead`` and ``OpusTags`` skipped)."""
    packets = list(iter_packets(data))
    if not packets or not packets[0].startswith(OPUS_HEAD):
        return []
    return [packet for packet in packets[1:] if packet and not packet.startswith(OPUS_TAGS)]


def opus_packet_samples(packet: bytes) -> int:
    """Samples (at 48 kHz) one Opus packet holds, from its TOC byte (RFC 6716 §3.1)."""
    if not packet:
        return 0
    toc = packet[0]
    config = toc >> 3
    if config < 12:  # SILK: 10, 20, 40, 60 ms
        frame = (480, 960, 1920, 2880)[config % 4]
    elif config < 16:  # hybrid: 10, 20 ms
        frame = (480, 960)[config % 2]
    else:  # CELT: 2.5, 5, 10, 20 ms
        frame = (120, 240, 480, 960)[config % 4]
    code = toc & 0x03
    if code == 0:
        count = 1
    elif code in (1, 2):
        count = 2
    else:
        count = packet[1] & 0x3F if len(packet) > 1 else 0
    return frame * count
