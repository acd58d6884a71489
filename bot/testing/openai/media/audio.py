"""Real, silent audio files in the formats ``POST /v1/audio/speech`` returns.

* ``wav``: RIFF/WAVE, PCM 16-bit mono 24 kHz (OpenAI's speech sample rate).
* ``pcm``: the same samples without a header (OpenAI's ``pcm`` is raw 24 kHz 16-bit LE mono).
* ``mp3``: MPEG-1 Layer III frames, 128 kbit/s, 44.1 kHz mono, with zero side information (silence).
* ``aac``: ADTS frames (AAC-LC, 24 kHz mono), each an empty single-channel element (silence).
* ``flac``: ``fLaC`` + STREAMINFO + frames of one CONSTANT zero subframe, with CRC-8/CRC-16.
* ``opus``: Ogg/Opus, see :mod:`.ogg`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from types import MappingProxyType

from .ogg import silent_ogg_opus

SPEECH_RATE = 24_000
MP3_FRAME_HEADER = b"\xff\xfb\x90\xc4"  # MPEG-1 L3, no CRC, 128 kbit/s, 44.1 kHz, mono, original
MP3_FRAME_BYTES = 417  # 144 * 128000 / 44100, no padding
MP3_SAMPLES_PER_FRAME = 1152
AAC_SILENT_ELEMENT = b"\x01\x40\x20\x07"  # SCE: gain 160, max_sfb 0, then END
AAC_SAMPLES_PER_FRAME = 1024
FLAC_BLOCK = 4096

CONTENT_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "mp3": "audio/mpeg",
        "opus": "audio/ogg",
        "aac": "audio/aac",
        "flac": "audio/flac",
        "wav": "audio/wav",
        "pcm": "audio/pcm",
    }
)


def silent_pcm(seconds: float) -> bytes:
    """Return raw 16-bit little-endian mono samples of silence at 24 kHz."""
    return bytes(2 * max(1, round(seconds * SPEECH_RATE)))


def silent_wav(seconds: float = 1.0, rate: int = SPEECH_RATE) -> bytes:
    """Return a PCM WAV file of mono 16-bit silence."""
    data = bytes(2 * max(1, round(seconds * rate)))
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def silent_mp3(seconds: float = 1.0) -> bytes:
    """Return MPEG-1 Layer III frames of silence (no ID3 tag)."""
    frames = max(1, round(seconds * 44_100 / MP3_SAMPLES_PER_FRAME))
    frame = MP3_FRAME_HEADER + bytes(MP3_FRAME_BYTES - len(MP3_FRAME_HEADER))
    return frame * frames


def _adts_header(frame_length: int) -> bytes:
    # syncword, MPEG-4, layer 0, no CRC | AAC-LC, 24 kHz (index 6), mono | length, fullness 0x7FF
    return bytes(
        [
            0xFF,
            0xF1,
            0x58,
            0x40 | (frame_length >> 11),
            (frame_length >> 3) & 0xFF,
            ((frame_length & 0x07) << 5) | 0x1F,
            0xFC,
        ]
    )


def silent_aac(seconds: float = 1.0) -> bytes:
    """Return ADTS AAC-LC frames of silence, 24 kHz mono."""
    frames = max(1, round(seconds * SPEECH_RATE / AAC_SAMPLES_PER_FRAME))
    return (_adts_header(7 + len(AAC_SILENT_ELEMENT)) + AAC_SILENT_ELEMENT) * frames


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def _flac_frame(number: int) -> bytes:
    if number > 0x7F:
        raise ValueError("silent_flac supports at most 128 frames (about 21 s)")
    # fixed block size | block 4096 (code 12), 24 kHz (code 7) | mono, 16 bit | frame number
    header = bytes([0xFF, 0xF8, 0xC7, 0x08, number])
    header += bytes([_crc8(header)])
    frame = header + b"\x00" + b"\x00\x00"  # CONSTANT subframe, value 0
    return frame + struct.pack(">H", _crc16(frame))


def silent_flac(seconds: float = 1.0) -> bytes:
    """Return a FLAC file of 16-bit mono silence at 24 kHz, in whole blocks of 4096 samples."""
    frames = max(1, round(seconds * SPEECH_RATE / FLAC_BLOCK))
    frame_bytes = [_flac_frame(number) for number in range(frames)]
    size = len(frame_bytes[0])
    total = frames * FLAC_BLOCK
    info = struct.pack(">HH", FLAC_BLOCK, FLAC_BLOCK) + size.to_bytes(3, "big") * 2
    # 20 bits sample rate, 3 bits channels-1, 5 bits bps-1, 36 bits total samples
    packed = (SPEECH_RATE << 44) | (0 << 41) | (15 << 36) | total
    info += packed.to_bytes(8, "big") + bytes(16)  # MD5 unknown
    block_header = bytes([0x80]) + len(info).to_bytes(3, "big")  # last block, STREAMINFO
    return b"fLaC" + block_header + info + b"".join(frame_bytes)


SPEECH_BUILDERS: Mapping[str, Callable[[float], bytes]] = MappingProxyType(
    {
        "mp3": silent_mp3,
        "opus": silent_ogg_opus,
        "aac": silent_aac,
        "flac": silent_flac,
        "wav": silent_wav,
        "pcm": silent_pcm,
    }
)


def silent_speech(response_format: str, seconds: float) -> tuple[bytes, str]:
    """Return ``(audio bytes, content type)`` of silence in one of the speech response formats."""
    builder = SPEECH_BUILDERS.get(response_format)
    if builder is None:
        raise ValueError(
            f"unknown speech format {response_format!r}: use one of {sorted(CONTENT_TYPES)}"
        )
    return builder(seconds), CONTENT_TYPES[response_format]
