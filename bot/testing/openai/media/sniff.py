"""Recognise uploads by their magic bytes, as OpenAI does before decoding them."""

from __future__ import annotations

from .ogg import OGG_CAPTURE, OPUS_HEAD
from .png import PNG_SIGNATURE

AudioKind = str  # "ogg-opus" | "ogg-vorbis" | "ogg-flac" | "ogg" | "wav" | "mp3" | "aac" | ...


def sniff_image(data: bytes) -> str | None:
    """Return ``png``, ``jpeg``, ``webp`` or ``gif`` for an image's bytes, else None."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


def sniff_audio(data: bytes) -> AudioKind | None:
    """Return the container (and for Ogg the codec) of an audio file's bytes, else None.

    Results: ``ogg-opus``, ``ogg-vorbis``, ``ogg-flac``, ``ogg`` (unknown codec), ``wav``,
    ``mp3``, ``aac`` (ADTS), ``flac``, ``webm`` (EBML/Matroska) and ``mp4`` (ISO BMFF: m4a/mp4).
    """
    if data.startswith(OGG_CAPTURE):
        return _ogg_codec(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data.startswith(b"fLaC"):
        return "flac"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if data[4:8] == b"ftyp":
        return "mp4"
    if data.startswith(b"ID3"):
        return "mp3"
    return _mpeg_frame_kind(data)


def _ogg_codec(data: bytes) -> AudioKind:
    # The first page holds exactly the codec's identification packet, after a 27-byte header
    # and the lacing table.
    if len(data) < 28:
        return "ogg"
    first_packet = data[27 + data[26] :]
    if first_packet.startswith(OPUS_HEAD):
        return "ogg-opus"
    if first_packet.startswith(b"\x01vorbis"):
        return "ogg-vorbis"
    if first_packet.startswith(b"\x7fFLAC"):
        return "ogg-flac"
    return "ogg"


def _mpeg_frame_kind(data: bytes) -> AudioKind | None:
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return None
    layer = (data[1] >> 1) & 0x03
    if layer == 0:
        return "aac" if data[1] & 0xF6 == 0xF0 else None
    bitrate_index = data[2] >> 4
    rate_index = (data[2] >> 2) & 0x03
    return "mp3" if bitrate_index not in (0, 15) and rate_index != 3 else None
