"""Checking audio before anything is uploaded: empty, too big, too long, or not audio at all.

The kind of a file comes from its magic bytes, never from its name or declared type, so a text file
renamed ``.ogg`` is refused here and the transcription endpoint never sees it. Every refusal is an
:class:`AudioRejected` whose ``user_message`` says what is wrong and what to send instead.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import PurePosixPath

from bot.voice import ogg

ACCEPTED = "OGG/Opus, WAV, MP3, FLAC, WEBM or M4A"


@dataclass(frozen=True)
class AudioFormat:
    """What an upload of one kind is called: file extension and content type."""

    extension: str
    content_type: str


FORMATS = {
    "ogg-opus": AudioFormat("ogg", "audio/ogg"),
    "ogg-vorbis": AudioFormat("ogg", "audio/ogg"),
    "ogg-flac": AudioFormat("ogg", "audio/ogg"),
    "wav": AudioFormat("wav", "audio/wav"),
    "mp3": AudioFormat("mp3", "audio/mpeg"),
    "flac": AudioFormat("flac", "audio/flac"),
    "webm": AudioFormat("webm", "audio/webm"),
    "m4a": AudioFormat("m4a", "audio/mp4"),
}
AUDIO_EXTENSIONS = frozenset({"ogg", "oga", "opus", "wav", "mp3", "flac", "webm", "m4a", "mp4"})


@dataclass(frozen=True)
class AudioLimits:
    """The caps an upload must keep: bytes and seconds."""

    max_bytes: int
    max_duration_s: float


class AudioRejected(Exception):
    """The audio cannot be transcribed; ``kind`` is empty/too_large/too_long/not_audio."""

    def __init__(self, kind: str, user_message: str) -> None:
        super().__init__(user_message)
        self.kind = kind
        self.user_message = user_message


@dataclass(frozen=True)
class AudioClip:
    """Audio that passed the checks, named for upload by what its bytes are."""

    data: bytes
    kind: str
    filename: str
    content_type: str
    duration_s: float | None


def sniff(data: bytes) -> str | None:
    """The kind of audio in ``data`` (a key of :data:`FORMATS`), or None if it is not audio."""
    if data.startswith(ogg.OGG_CAPTURE):
        found = ogg.codec(data)
        return f"ogg-{found}" if found else None
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data.startswith(b"fLaC"):
        return "flac"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if data[4:8] == b"ftyp":
        return "m4a"
    if data.startswith(b"ID3") or _mpeg_audio_frame(data):
        return "mp3"
    return None


def _mpeg_audio_frame(data: bytes) -> bool:
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return False
    layer = (data[1] >> 1) & 0x03
    bitrate_index = data[2] >> 4
    rate_index = (data[2] >> 2) & 0x03
    return layer != 0 and bitrate_index not in (0, 15) and rate_index != 3


def duration_of(data: bytes, kind: str) -> float | None:
    """Seconds of audio, where the container says it cheaply (Ogg/Opus, WAV); else None."""
    if kind == "ogg-opus":
        return ogg.opus_duration(data)
    if kind == "wav":
        return _wav_duration(data)
    return None


def _wav_duration(data: bytes) -> float | None:
    offset, byte_rate = 12, 0
    while offset + 8 <= len(data):
        chunk, size = struct.unpack_from("<4sI", data, offset)
        if chunk == b"fmt " and size >= 16 and offset + 16 <= len(data):
            byte_rate = struct.unpack_from("<I", data, offset + 16)[0]
        if chunk == b"data":
            available = min(size, len(data) - offset - 8)
            return available / byte_rate if byte_rate else None
        offset += 8 + size + (size & 1)
    return None


def check_declared(filename: str, size: int, duration_s: float | None, limits: AudioLimits) -> None:
    """Refuse by what Discord says about a file, before downloading it."""
    _check_size(filename, size, limits)
    _check_duration(duration_s, limits)


def validate(filename: str, data: bytes, limits: AudioLimits) -> AudioClip:
    """Check the downloaded bytes; return them named for upload, or raise AudioRejected."""
    _check_size(filename, len(data), limits)
    kind = sniff(data)
    if kind is None:
        raise AudioRejected(
            "not_audio",
            f"`{_shown(filename)}` is not an audio file I can read: its contents are not "
            f"{ACCEPTED} audio. Send a real recording.",
        )
    duration = duration_of(data, kind)
    _check_duration(duration, limits)
    audio_format = FORMATS[kind]
    stem = PurePosixPath(filename).stem or "audio"
    return AudioClip(
        data=data,
        kind=kind,
        filename=f"{stem}.{audio_format.extension}",
        content_type=audio_format.content_type,
        duration_s=duration,
    )


def _check_size(filename: str, size: int, limits: AudioLimits) -> None:
    if size <= 0:
        raise AudioRejected(
            "empty", f"`{_shown(filename)}` is empty (0 bytes): there is nothing to transcribe."
        )
    if size > limits.max_bytes:
        raise AudioRejected(
            "too_large",
            f"`{_shown(filename)}` is {_megabytes(size)}; I transcribe audio files up to "
            f"{_megabytes(limits.max_bytes)}. Send a shorter recording.",
        )


def _check_duration(duration_s: float | None, limits: AudioLimits) -> None:
    if duration_s is not None and duration_s > limits.max_duration_s:
        raise AudioRejected(
            "too_long",
            f"This recording is {clock(duration_s)} long; I transcribe up to "
            f"{clock(limits.max_duration_s)}. Send a shorter one.",
        )


def is_audio_name(filename: str, content_type: str | None) -> bool:
    """Whether an attachment looks like audio by name or declared type (before reading it)."""
    declared = (content_type or "").split(";")[0].strip().lower()
    extension = PurePosixPath(filename.lower()).suffix.lstrip(".")
    return declared.startswith("audio/") or extension in AUDIO_EXTENSIONS


def clock(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``) of a duration, rounded to the second."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 100 * 1024 else f"{size:,} bytes"


def _shown(filename: str) -> str:
    return filename.replace("`", "'")[:100] or "the file"
