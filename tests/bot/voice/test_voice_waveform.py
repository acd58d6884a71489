"""Ogg packets, Opus frame lengths, and the waveform estimated from packet sizes."""

from __future__ import annotations

import base64
import struct

import pytest

from bot.testing.openai.media.ogg import (
    ogg_crc,
    ogg_page,
    opus_head,
    opus_tags,
    silent_ogg_opus,
)
from bot.voice import ogg, waveform

CELT_20MS = 0xF8  # config 31 (CELT FB 20 ms), mono, one frame


def _opus_file(packets: list[bytes], per_page: int = 50) -> bytes:
    pages = [
        ogg_page([opus_head()], serial=3, sequence=0, granule=0, flags=0x02),
        ogg_page([opus_tags()], serial=3, sequence=1, granule=0, flags=0),
    ]
    for start in range(0, len(packets), per_page):
        chunk = packets[start : start + per_page]
        granule = 312 + (start + len(chunk)) * 960
        pages.append(ogg_page(chunk, serial=3, sequence=len(pages), granule=granule, flags=0))
    return b"".join(pages)


def _frame(size: int) -> bytes:
    return bytes([CELT_20MS]) + bytes(size - 1)


def test_packets_longer_than_255_bytes_are_joined() -> None:
    data = _opus_file([_frame(600), _frame(3), _frame(255)])
    assert [len(p) for p in ogg.opus_audio_packets(data)] == [600, 3, 255]


def test_a_packet_continued_on_the_next_page_is_joined() -> None:
    head = ogg_page([opus_head()], serial=1, sequence=0, granule=0, flags=0x02)
    tags = ogg_page([opus_tags()], serial=1, sequence=1, granule=0, flags=0)
    big = _frame(300)
    # A page ending in a 255 lacing value leaves the packet open; the next page continues it.
    first = _raw_page(big[:255], lacing=b"\xff", sequence=2)
    second = _raw_page(big[255:], lacing=bytes([45]), sequence=3, continued=True)
    packets = ogg.opus_audio_packets(head + tags + first + second)
    assert packets == [big]


def _raw_page(body: bytes, *, lacing: bytes, sequence: int, continued: bool = False) -> bytes:
    header = struct.pack(
        "<4sBBqIIIB", b"OggS", 0, 1 if continued else 0, 312 + 960, 1, sequence, 0, len(lacing)
    )
    page = bytearray(header + lacing + body)
    struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
    return bytes(page)


@pytest.mark.parametrize(
    ("packet", "samples"),
    [
        (bytes([0xF8, 0xFF, 0xFE]), 960),  # CELT 20 ms, one frame
        (bytes([0xE0]), 120),  # CELT 2.5 ms (config 28)
        (bytes([0x08]), 960),  # SILK 20 ms (config 1)
        (bytes([0x18]), 2880),  # SILK 60 ms (config 3)
        (bytes([0x68]), 960),  # hybrid 20 ms (config 13)
        (bytes([0xF9, 0x00]), 1920),  # two frames of 20 ms (code 1)
        (bytes([0xFB, 0x03]), 2880),  # code 3, three frames
        (b"", 0),
    ],
)
def test_opus_packet_lengths_come_from_the_toc(packet: bytes, samples: int) -> None:
    assert ogg.opus_packet_samples(packet) == samples


def test_silence_has_a_flat_zero_waveform() -> None:
    wave = waveform.opus_waveform(silent_ogg_opus(2.0))
    assert wave == bytes(len(wave)) and 0 < len(wave) <= 256


def test_louder_stretches_are_taller() -> None:
    packets = [_frame(3)] * 20 + [_frame(40)] * 20 + [_frame(120)] * 20
    wave = waveform.opus_waveform(_opus_file(packets))
    assert len(wave) == 60
    quiet, medium, loud = wave[:20], wave[20:40], wave[40:]
    assert set(quiet) == {0} and set(loud) == {255}
    assert all(0 < value < 255 for value in medium)


def test_long_clips_get_at_most_256_samples() -> None:
    wave = waveform.opus_waveform(_opus_file([_frame(10 + i % 50) for i in range(3000)]))
    assert len(wave) == 256


def test_a_file_that_is_not_opus_has_no_waveform() -> None:
    assert waveform.opus_waveform(b"RIFF....WAVE") == b""


def test_encode_is_base64_of_at_most_256_bytes() -> None:
    encoded = waveform.encode(bytes(range(256)) + b"extra")
    assert base64.b64decode(encoded) == bytes(range(256))
