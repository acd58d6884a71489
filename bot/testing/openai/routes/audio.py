"""``POST /v1/audio/transcriptions`` (multipart, uploads checked by magic bytes) and ``/speech``."""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any

from aiohttp import web

from ..errors import ApiError
from ..media.audio import CONTENT_TYPES, silent_speech
from ..media.ogg import ogg_opus_duration
from ..media.sniff import sniff_audio
from ..multipart import UploadedFile
from ..replies import SpeechReply, TranscriptionReply
from ..script import SpeechScript, TranscriptionScript
from ..state import EmulatorState
from ..validation import SchemaIssue
from .common import (
    base_headers,
    before_response,
    receive_form,
    receive_json,
    reject,
    respond_json,
    unsupported,
)

TRANSCRIPTION_SCHEMA = "CreateTranscriptionRequest"
SUPPORTED_EXTENSIONS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
OGG_KINDS = frozenset({"ogg-opus", "ogg-vorbis", "ogg-flac"})
KINDS_BY_EXTENSION: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "flac": frozenset({"flac", "ogg-flac"}),
        "m4a": frozenset({"mp4"}),
        "mp4": frozenset({"mp4"}),
        "mp3": frozenset({"mp3"}),
        "mpeg": frozenset({"mp3"}),
        "mpga": frozenset({"mp3"}),
        "oga": OGG_KINDS,
        "ogg": OGG_KINDS,
        "wav": frozenset({"wav"}),
        "webm": frozenset({"webm"}),
    }
)
EXTENSION_BY_CONTENT_TYPE: Mapping[str, str] = MappingProxyType(
    {
        "audio/ogg": "ogg",
        "audio/opus": "ogg",
        "audio/wav": "wav",
        "audio/x-wav": "wav",
        "audio/wave": "wav",
        "audio/mpeg": "mp3",
        "audio/mp3": "mp3",
        "audio/flac": "flac",
        "audio/x-flac": "flac",
        "audio/webm": "webm",
        "audio/mp4": "m4a",
        "audio/m4a": "m4a",
        "audio/x-m4a": "m4a",
        "video/mp4": "mp4",
        "video/webm": "webm",
    }
)
CORRUPT_MESSAGE = "Audio file might be corrupted or unsupported"
SPEECH_CHARS_PER_SECOND = 15.0


async def transcriptions(
    state: EmulatorState, script: TranscriptionScript, request: web.Request
) -> web.StreamResponse:
    """Answer ``audio.transcriptions.create`` in json, text, srt, vtt or verbose_json."""
    fields = await receive_form(state, request, TRANSCRIPTION_SCHEMA)
    upload = _check_audio(state, request, fields.get("file"))
    if fields.get("stream") is True:
        raise unsupported("streamed transcription (stream=true)")
    response_format = str(fields.get("response_format") or "json")
    if response_format == "diarized_json":
        raise unsupported("response_format=diarized_json")
    step = await script.next_step(fields, pause=state.pause)
    await before_response(state, request, step.fault, str(fields.get("model")), stream=False)
    reply = (
        step.reply
        if isinstance(step.reply, TranscriptionReply)
        else TranscriptionReply(script.default_text)
    )
    await state.pause(reply.latency if reply.latency is not None else script.latency)
    duration = _duration(upload)
    if response_format in ("text", "srt", "vtt"):
        text = _subtitles(reply.text, duration, response_format)
        return web.Response(text=text, content_type="text/plain", headers=base_headers(request))
    usage = {"type": "duration", "seconds": math.ceil(duration)}
    if response_format == "verbose_json":
        data = _verbose(reply, duration, fields)
        data["usage"] = usage
        return respond_json(
            state, request, data, "CreateTranscriptionResponseVerboseJson", fault=step.fault
        )
    data = {"text": reply.text, "usage": usage}
    return respond_json(state, request, data, "CreateTranscriptionResponseJson", fault=step.fault)


def _check_audio(state: EmulatorState, request: web.Request, upload: Any) -> UploadedFile:
    """Reject (400/413, recorded as a violation) an upload OpenAI would not decode."""
    if not isinstance(upload, UploadedFile):
        issue = SchemaIssue(("file",), "must be a file upload", "type")
        error = ApiError(
            400, "'file' must be a file, not a text field.", param="file", code="invalid_type"
        )
        raise reject(state, request, TRANSCRIPTION_SCHEMA, issue, error)
    limit = state.options.max_upload_bytes
    if upload.size > limit:
        issue = SchemaIssue(
            ("file",), f"{upload.size} bytes exceed the {limit}-byte limit", "maxLength"
        )
        error = ApiError(
            413, f"Maximum content size limit ({limit}) exceeded ({upload.size} bytes read)"
        )
        raise reject(state, request, TRANSCRIPTION_SCHEMA, issue, error)
    expected = _expected_kinds(state, request, upload)
    kind = sniff_audio(upload.data)
    if kind not in expected:
        detail = f"bytes are {kind or 'not audio'}, but the upload declares {sorted(expected)}"
        issue = SchemaIssue(("file",), detail, "format")
        error = ApiError(400, CORRUPT_MESSAGE, param="file", code="invalid_value")
        raise reject(state, request, TRANSCRIPTION_SCHEMA, issue, error)
    return upload


def _expected_kinds(
    state: EmulatorState, request: web.Request, upload: UploadedFile
) -> frozenset[str]:
    extension = _declared_extension(upload)
    expected = KINDS_BY_EXTENSION.get(extension or "")
    if expected is None:
        issue = SchemaIssue(("file",), f"unsupported file type {extension!r}", "enum")
        formats = ", ".join(f"'{e}'" for e in SUPPORTED_EXTENSIONS)
        error = ApiError(400, f"Invalid file format. Supported formats: [{formats}]")
        raise reject(state, request, TRANSCRIPTION_SCHEMA, issue, error)
    return frozenset({"ogg-opus"}) if _declares_opus(upload) else expected


def _declared_extension(upload: UploadedFile) -> str | None:
    suffix = PurePosixPath(upload.filename or "").suffix.lower().lstrip(".")
    if suffix:
        return suffix
    content_type = (upload.content_type or "").split(";", 1)[0].strip().lower()
    return EXTENSION_BY_CONTENT_TYPE.get(content_type)


def _declares_opus(upload: UploadedFile) -> bool:
    content_type = (upload.content_type or "").lower()
    return content_type.startswith("audio/opus") or "codecs=opus" in content_type


def _duration(upload: UploadedFile) -> float:
    kind = sniff_audio(upload.data)
    if kind == "ogg-opus":
        return ogg_opus_duration(upload.data) or 1.0
    if kind == "wav" and len(upload.data) >= 44:
        byte_rate = struct.unpack_from("<I", upload.data, 28)[0]
        return (upload.size - 44) / byte_rate if byte_rate else 1.0
    return 1.0


def _verbose(reply: TranscriptionReply, duration: float, fields: dict[str, Any]) -> dict[str, Any]:
    segment = {
        "id": 0,
        "seek": 0,
        "start": 0.0,
        "end": round(duration, 3),
        "text": reply.text,
        "tokens": [50364],
        "temperature": 0.0,
        "avg_logprob": -0.2,
        "compression_ratio": 1.0,
        "no_speech_prob": 0.01,
    }
    data: dict[str, Any] = {
        "task": "transcribe",
        "language": reply.language,
        "duration": round(duration, 3),
        "text": reply.text,
        "segments": [segment],
    }
    if "word" in (fields.get("timestamp_granularities") or []):
        data["words"] = _words(reply.text, duration)
    return data


def _words(text: str, duration: float) -> list[dict[str, Any]]:
    words = text.split()
    step = duration / max(1, len(words))
    return [
        {"word": word, "start": round(i * step, 3), "end": round((i + 1) * step, 3)}
        for i, word in enumerate(words)
    ]


def _subtitles(text: str, duration: float, response_format: str) -> str:
    if response_format == "text":
        return text
    end = _timestamp(duration, "," if response_format == "srt" else ".")
    start = _timestamp(0.0, "," if response_format == "srt" else ".")
    if response_format == "srt":
        return f"1\n{start} --> {end}\n{text}\n\n"
    return f"WEBVTT\n\n{start} --> {end}\n{text}\n\n"


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


async def speech(
    state: EmulatorState, script: SpeechScript, request: web.Request
) -> web.StreamResponse:
    """Answer ``audio.speech.create`` with real (silent) audio in the requested format."""
    body = await receive_json(state, request, "CreateSpeechRequest")
    if body.get("stream_format") == "sse":
        raise unsupported("stream_format=sse for speech")
    step = await script.next_step(body, pause=state.pause)
    await before_response(state, request, step.fault, str(body.get("model")), stream=False)
    reply = step.reply if isinstance(step.reply, SpeechReply) else SpeechReply()
    await state.pause(reply.latency if reply.latency is not None else script.latency)
    response_format = str(body.get("response_format") or "mp3")
    seconds = reply.seconds or min(
        10.0, max(0.5, len(str(body.get("input"))) / SPEECH_CHARS_PER_SECOND)
    )
    audio = reply.audio if reply.audio is not None else silent_speech(response_format, seconds)[0]
    content_type = reply.content_type or CONTENT_TYPES[response_format]
    return web.Response(body=audio, content_type=content_type, headers=base_headers(request))
