"""Pure parts of the OpenAI emulator: scripts, multipart, sniffers, schema rewrite, tokens."""

from __future__ import annotations

import importlib.util
import zlib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.testing.openai import Fault, TextReply
from bot.testing.openai.media.audio import silent_aac, silent_flac, silent_mp3, silent_wav
from bot.testing.openai.media.ogg import ogg_crc, ogg_opus_duration, silent_ogg_opus
from bot.testing.openai.media.png import solid_png
from bot.testing.openai.media.sniff import sniff_audio, sniff_image
from bot.testing.openai.multipart import _place, coerce_to_schema
from bot.testing.openai.script import ChatScript
from bot.testing.openai.tokens import prompt_tokens, text_tokens
from bot.testing.openai.validation import SchemaBook

BUILD_SCRIPT = (
    Path(__file__).resolve().parents[4] / "bot" / "testing" / "schemas" / "build_subset.py"
)


async def _no_pause(seconds: float) -> None:
    return None


async def _step(script: ChatScript) -> tuple[Any, Any]:
    step = await script.next_step(
        {"messages": [{"role": "user", "content": "hi"}]}, pause=_no_pause
    )
    return step.reply, step.fault


async def test_error_faults_count_down_and_leave_replies_queued() -> None:
    script = ChatScript()
    script.reply_fault(Fault.rate_limit(times=2))
    script.reply_text("after")
    assert (await _step(script))[1].kind == "rate_limit"
    assert (await _step(script))[1].kind == "rate_limit"
    reply, fault = await _step(script)
    assert reply == TextReply("after") and fault is None
    assert (await _step(script))[0] == TextReply("echo: hi")


async def test_delivery_faults_ride_on_the_next_reply_and_sticky_faults_clear() -> None:
    script = ChatScript()
    script.reply_fault(Fault.cut_stream(after_chunks=1))
    script.reply_text("cut me")
    reply, fault = await _step(script)
    assert reply == TextReply("cut me") and fault.kind == "cut_stream"
    script.reply_fault(Fault.outage(times=None))
    for _ in range(3):
        assert (await _step(script))[1].kind == "outage"
    script.clear_faults()
    assert (await _step(script))[1] is None
    assert script.attempts == 5 and script.pending == 0


async def test_a_repeated_delivery_fault_applies_to_each_queued_reply() -> None:
    script = ChatScript()
    script.reply_fault(Fault.disconnect(after_chunks=1, times=2))
    script.reply_text("first")
    script.reply_text("second")
    steps = [await _step(script) for _ in range(3)]
    assert [reply.content for reply, _ in steps] == ["first", "second", "echo: hi"]
    assert [fault.kind if fault else None for _, fault in steps] == [
        "disconnect",
        "disconnect",
        None,
    ]


def test_fault_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="times"):
        Fault.rate_limit(times=0)
    with pytest.raises(ValueError, match="5xx"):
        Fault.outage(404)
    with pytest.raises(ValueError, match="delivery"):
        Fault.stall().to_error()


def test_multipart_brackets_rebuild_nested_values() -> None:
    fields: dict[str, Any] = {}
    for name, value in [
        ("image[]", "a"),
        ("image[]", "b"),
        ("chunking_strategy[type]", "server_vad"),
        ("chunking_strategy[threshold]", "0.5"),
        ("n", "2"),
    ]:
        _place(fields, name, value)
    assert fields == {
        "image": ["a", "b"],
        "chunking_strategy": {"type": "server_vad", "threshold": "0.5"},
        "n": "2",
    }


def test_form_values_are_coerced_as_the_schema_says() -> None:
    book = SchemaBook()
    schema = {"$ref": "#/components/schemas/CreateTranscriptionRequest"}
    form = {
        "temperature": "0.2",
        "timestamp_granularities": ["word"],
        "stream": "false",
        "prompt": "123",
        "chunking_strategy": {"type": "server_vad", "threshold": "0.5", "prefix_padding_ms": "300"},
    }
    coerced = coerce_to_schema(book, schema, form)
    assert coerced["temperature"] == 0.2 and coerced["stream"] is False
    assert coerced["prompt"] == "123"
    assert coerced["chunking_strategy"] == {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
    }


def test_sniffers_know_the_formats() -> None:
    assert sniff_image(solid_png(1, 1)) == "png"
    assert sniff_image(b"\xff\xd8\xff\xdb") == "jpeg"
    assert sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert sniff_image(b"hello") is None
    assert sniff_audio(silent_ogg_opus(0.1)) == "ogg-opus"
    assert sniff_audio(b"OggS" + bytes(22) + b"\x01\x1e\x01vorbis") == "ogg-vorbis"
    assert sniff_audio(silent_wav(0.1)) == "wav"
    assert sniff_audio(silent_mp3(0.1)) == "mp3"
    assert sniff_audio(b"ID3\x04") == "mp3"
    assert sniff_audio(silent_aac(0.1)) == "aac"
    assert sniff_audio(silent_flac(0.1)) == "flac"
    assert sniff_audio(b"\x00\x00\x00\x20ftypM4A ") == "mp4"
    assert sniff_audio(b"\x1a\x45\xdf\xa3") == "webm"
    assert sniff_audio(b"OggS" + bytes(40)) == "ogg"
    assert sniff_audio(b"not audio") is None


def test_ogg_crc_and_opus_duration() -> None:
    assert ogg_crc(b"") == 0
    assert ogg_crc(b"OggS") != zlib.crc32(b"OggS")  # Ogg's CRC is not the zip CRC
    assert ogg_opus_duration(silent_ogg_opus(2.0)) == pytest.approx(2.0, abs=0.01)
    assert ogg_opus_duration(b"not ogg") is None


def test_token_estimates() -> None:
    assert text_tokens("") == 0 and text_tokens("abcde") == 2
    request = {"messages": [{"role": "user", "content": "abcd"}], "tools": [{"type": "function"}]}
    assert prompt_tokens(request) == 3 + (3 + 1) + text_tokens('[{"type":"function"}]')


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_subset", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_subset_rewrites_openapi_leftovers() -> None:
    rewrite = _build_module().rewrite
    assert rewrite({"type": "string", "nullable": True, "enum": ["a"]}) == {
        "type": ["string", "null"],
        "enum": ["a", None],
    }
    assert rewrite({"$ref": "#/x", "nullable": True, "description": "d", "default": 1}) == {
        "default": 1,
        "anyOf": [{"$ref": "#/x"}, {"type": "null"}],
    }
    assert rewrite({"type": "number", "minimum": 0, "exclusiveMinimum": True}) == {
        "type": "number",
        "exclusiveMinimum": 0,
    }
    assert rewrite({"type": "integer", "nullable": False}) == {"type": "integer"}
    assert rewrite({"properties": {"description": {"type": "string", "example": "x"}}}) == {
        "properties": {"description": {"type": "string"}}
    }


def test_build_subset_follows_references() -> None:
    reachable = _build_module().reachable_schemas
    schemas = {
        "A": {"$ref": "#/components/schemas/B"},
        "B": {"items": {"$ref": "#/components/schemas/C"}},
        "C": {},
        "D": {},
    }
    assert reachable(schemas, ("A",)) == ["A", "B", "C"]
    with pytest.raises(SystemExit, match="ROOT_SCHEMAS"):
        reachable(schemas, ("Missing",))
