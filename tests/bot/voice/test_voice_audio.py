"""Audio checks: kinds by magic bytes, durations, and the refusals users see."""

from __future__ import annotations

import struct

import pytest

from bot.testing.openai.media.audio import silent_flac, silent_mp3, silent_wav
from bot.testing.openai.media.ogg import ogg_page, opus_head, opus_tags, silent_ogg_opus
from bot.voice.audio import (
    AudioLimits,
    AudioRejected,
    check_declared,
    clock,
    duration_of,
    is_audio_name,
    sniff,
    validate,
)

LIMITS = AudioLimits(max_bytes=1_000_000, max_duration_s=60.0)
ONE_MEGABYTE = AudioLimits(max_bytes=1024 * 1024, max_duration_s=60.0)


def _ogg_with_first_packet(packet: bytes) -> bytes:
    return ogg_page([packet], serial=1, sequence=0, granule=0, flags=0x02) + ogg_page(
        [b"\x00" * 10], serial=1, sequence=1, granule=960, flags=0x04
    )


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (silent_ogg_opus(1.0), "ogg-opus"),
        (_ogg_with_first_packet(b"\x01vorbis" + bytes(23)), "ogg-vorbis"),
        (_ogg_with_first_packet(b"\x7fFLAC" + bytes(20)), "ogg-flac"),
        (silent_wav(0.5), "wav"),
        (silent_mp3(0.5), "mp3"),
        (b"ID3\x04\x00" + bytes(100), "mp3"),
        (silent_flac(0.5), "flac"),
        (b"\x1a\x45\xdf\xa3" + bytes(60), "webm"),
        (b"\x00\x00\x00\x20ftypM4A " + bytes(60), "m4a"),
    ],
)
def test_audio_kinds_are_told_by_their_bytes(data: bytes, kind: str) -> None:
    assert sniff(data) == kind


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, this is text\n" * 10,
        b"OggS" + bytes(1020),
        _ogg_with_first_packet(b"\x80theora" + bytes(40)),
        b"\x89PNG\r\n\x1a\n" + bytes(40),
        b"\xff\xf1\x58\x40" + bytes(40),
    ],
    ids=["empty", "text", "ogg-garbage", "ogg-video", "png", "adts-aac"],
)
def test_other_bytes_are_not_audio(data: bytes) -> None:
    assert sniff(data) is None


def test_ogg_opus_duration_counts_granules_minus_the_pre_skip() -> None:
    assert duration_of(silent_ogg_opus(2.5), "ogg-opus") == pytest.approx(2.5, abs=0.001)
    pages = [
        ogg_page([opus_head(pre_skip=960)], serial=7, sequence=0, granule=0, flags=0x02),
        ogg_page([opus_tags()], serial=7, sequence=1, granule=0, flags=0),
        ogg_page([b"\xf8\xff\xfe"] * 50, serial=7, sequence=2, granule=48_960, flags=0x04),
    ]
    assert duration_of(b"".join(pages), "ogg-opus") == pytest.approx(1.0)


def test_wav_duration_comes_from_the_byte_rate() -> None:
    assert duration_of(silent_wav(1.5, rate=22_050), "wav") == pytest.approx(1.5, abs=0.001)


def test_a_truncated_ogg_still_measures_what_is_there() -> None:
    whole = silent_ogg_opus(3.0)
    duration = duration_of(whole[: len(whole) - 20], "ogg-opus")
    assert duration is not None and 1.0 < duration < 3.0


def test_valid_audio_is_named_for_upload_by_its_real_kind() -> None:
    clip = validate("memo.mp3", silent_wav(0.5), LIMITS)
    assert (clip.kind, clip.filename, clip.content_type) == ("wav", "memo.wav", "audio/wav")
    assert clip.duration_s == pytest.approx(0.5, abs=0.001)
    voice = validate("voice-message.ogg", silent_ogg_opus(1.0), LIMITS)
    assert (voice.filename, voice.content_type) == ("voice-message.ogg", "audio/ogg")


@pytest.mark.parametrize(
    ("filename", "data", "kind", "words"),
    [
        ("a.ogg", b"", "empty", "`a.ogg` is empty (0 bytes)"),
        ("b.ogg", bytes(2_000_000), "too_large", "`b.ogg` is 1.9 MB; I transcribe audio files up"),
        ("c.ogg", b"not audio" * 10, "not_audio", "`c.ogg` is not an audio file I can read"),
        (
            "d.ogg",
            silent_ogg_opus(61.0),
            "too_long",
            "This recording is 1:01 long; I transcribe up",
        ),
    ],
)
def test_refusals_say_what_is_wrong(filename: str, data: bytes, kind: str, words: str) -> None:
    with pytest.raises(AudioRejected) as caught:
        validate(filename, data, LIMITS)
    assert caught.value.kind == kind
    assert words in caught.value.user_message


def test_declared_size_and_duration_are_checked_before_download() -> None:
    with pytest.raises(AudioRejected, match="is empty"):
        check_declared("v.ogg", 0, None, LIMITS)
    with pytest.raises(AudioRejected, match=r"up to 1\.0 MB"):
        check_declared("v.ogg", 2_000_000, 3.0, ONE_MEGABYTE)
    with pytest.raises(AudioRejected, match="2:00 long"):
        check_declared("v.ogg", 1000, 120.0, LIMITS)
    check_declared("v.ogg", 1000, None, LIMITS)


def test_backticks_in_file_names_cannot_break_the_message() -> None:
    with pytest.raises(AudioRejected) as caught:
        validate("x`y.ogg", b"", LIMITS)
    assert "`x'y.ogg`" in caught.value.user_message


@pytest.mark.parametrize(
    ("filename", "content_type", "expected"),
    [
        ("voice-message.ogg", "audio/ogg", True),
        ("song.MP3", None, True),
        ("clip.bin", "audio/wav", True),
        ("photo.png", "image/png", False),
        ("notes.txt", "text/plain", False),
    ],
)
def test_audio_names(filename: str, content_type: str | None, expected: bool) -> None:
    assert is_audio_name(filename, content_type) is expected


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0.4, "0:00"), (2.6, "0:03"), (61, "1:01"), (3725, "1:02:05")]
)
def test_clock(seconds: float, shown: str) -> None:
    assert clock(seconds) == shown


def test_wav_without_a_data_chunk_has_no_duration() -> None:
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    data = b"RIFF" + struct.pack("<I", 28) + b"WAVEfmt " + struct.pack("<I", 16) + fmt
    assert duration_of(data, "wav") is None
