"""Images, moderations, audio, embeddings and models through the real openai client."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Callable
from typing import Literal

import httpx2
import openai
import pytest

from bot.testing.openai import (
    Fault,
    ImageReply,
    ModerationReply,
    OpenAIEmulator,
    TranscriptionReply,
)
from bot.testing.openai.media.audio import silent_wav
from bot.testing.openai.media.ogg import OPUS_HEAD, OPUS_TAGS, iter_ogg_pages
from bot.testing.openai.media.png import PNG_SIGNATURE, png_size, solid_png

SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
JPEG_HEADER = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
WEBP_HEADER = b"RIFF\x10\x00\x00\x00WEBPVP8L"


def _png_pixels(data: bytes) -> bytes:
    """Decompress the IDAT of a PNG written by solid_png (one IDAT chunk)."""
    offset, idat = 8, b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) == crc
        idat += body if kind == b"IDAT" else b""
        offset += 12 + length
    return zlib.decompress(idat)


async def test_image_generation_returns_real_pngs(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    result = await client.images.generate(
        model="gpt-image-1.5", prompt="a red fox", n=2, size="1024x1024"
    )
    assert result.data is not None and len(result.data) == 2
    image = base64.b64decode(result.data[0].b64_json or "")
    assert image.startswith(PNG_SIGNATURE)
    width, height = png_size(image)
    assert len(_png_pixels(image)) == height * (1 + 3 * width)
    assert result.size == "1024x1024" and result.output_format == "png"
    assert emu.images.requests[0]["prompt"] == "a red fox"


async def test_image_scripted_bytes_url_format_and_policy_fault(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.images.reply(ImageReply([solid_png(2, 2)], revised_prompt="better"))
    scripted = await client.images.generate(model="gpt-image-1.5", prompt="x")
    assert scripted.data is not None and scripted.data[0].revised_prompt == "better"
    assert png_size(base64.b64decode(scripted.data[0].b64_json or "")) == (2, 2)
    as_url = await client.images.generate(model="dall-e-3", prompt="x", response_format="url")
    assert as_url.data is not None and as_url.data[0].url is not None
    async with httpx2.AsyncClient() as http:
        fetched = await http.get(as_url.data[0].url)
    assert fetched.content.startswith(PNG_SIGNATURE)
    emu.images.reply_fault(Fault.content_policy_violation())
    with pytest.raises(openai.BadRequestError) as caught:
        await client.images.generate(model="gpt-image-1.5", prompt="forbidden")
    assert caught.value.code == "content_policy_violation"


async def test_image_edit_accepts_png_jpeg_webp_and_a_png_mask(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    result = await client.images.edit(
        model="gpt-image-1.5",
        prompt="add a hat",
        image=[
            ("a.png", solid_png(), "image/png"),
            ("b.jpg", JPEG_HEADER + b"rest", "image/jpeg"),
            ("c.webp", WEBP_HEADER + b"rest", "image/webp"),
        ],
        mask=("mask.png", solid_png(), "image/png"),
        n=1,
        size="1024x1024",
    )
    assert result.data is not None and len(result.data) == 1
    request = emu.image_edits.requests[0]
    assert request["n"] == 1 and request["prompt"] == "add a hat"
    assert [upload.filename for upload in request["image"]] == ["a.png", "b.jpg", "c.webp"]
    assert request["mask"].data.startswith(PNG_SIGNATURE)


async def test_image_edit_rejects_bytes_that_are_not_an_image(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.images.edit(
            model="gpt-image-1.5", prompt="x", image=("a.png", b"just text", "image/png")
        )
    assert caught.value.code == "unsupported_file_mimetype"
    with pytest.raises(openai.BadRequestError):
        await client.images.edit(
            model="gpt-image-1.5",
            prompt="x",
            image=("a.png", solid_png(), "image/png"),
            mask=("m.jpg", JPEG_HEADER, "image/jpeg"),
        )
    assert [v.issues[0].location for v in emu.take_violations()] == ["image", "mask"]
    assert emu.image_edits.attempts == 0


async def test_moderation_defaults_and_scripts(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    clean = await client.moderations.create(model="omni-moderation-latest", input="hello")
    assert clean.results[0].flagged is False
    emu.moderations.reply(ModerationReply(["violence"], scores={"violence": 0.97}))
    flagged = await client.moderations.create(model="omni-moderation-latest", input=["a", "b"])
    assert [r.flagged for r in flagged.results] == [True, True]
    assert flagged.results[0].categories.violence is True
    assert flagged.results[0].category_scores.violence == pytest.approx(0.97)
    emu.moderations.reply([ModerationReply(), ModerationReply(["harassment"])])
    per_item = await client.moderations.create(model="omni-moderation-latest", input=["ok", "mean"])
    assert [r.flagged for r in per_item.results] == [False, True]


async def test_speech_returns_real_audio_for_each_format(client: openai.AsyncOpenAI) -> None:
    magic: dict[SpeechFormat, Callable[[bytes], bool]] = {
        "mp3": lambda b: b[:2] == b"\xff\xfb",
        "opus": lambda b: b.startswith(b"OggS"),
        "aac": lambda b: b[:2] == b"\xff\xf1",
        "flac": lambda b: b.startswith(b"fLaC"),
        "wav": lambda b: b[:4] == b"RIFF" and b[8:12] == b"WAVE",
        "pcm": lambda b: len(b) % 2 == 0 and not any(b),
    }
    for response_format, check in magic.items():
        speech = await client.audio.speech.create(
            model="gpt-4o-mini-tts",
            voice="alloy",
            input="Hello there",
            response_format=response_format,
        )
        assert check(speech.content), response_format


async def test_speech_opus_is_a_valid_ogg_opus_file(client: openai.AsyncOpenAI) -> None:
    speech = await client.audio.speech.create(
        model="gpt-4o-mini-tts", voice="alloy", input="A voice message", response_format="opus"
    )
    assert speech.response.headers["content-type"] == "audio/ogg"
    pages = list(iter_ogg_pages(speech.content))
    assert all(page.crc_ok for page in pages)
    assert pages[0].body.startswith(OPUS_HEAD) and pages[0].flags & 0x02
    assert pages[1].body.startswith(OPUS_TAGS)
    assert pages[-1].flags & 0x04 and len({page.serial for page in pages}) == 1
    assert [page.sequence for page in pages] == list(range(len(pages)))


async def test_transcription_accepts_the_speech_routes_ogg_opus(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    voice = await client.audio.speech.create(
        model="gpt-4o-mini-tts", voice="alloy", input="Hello world", response_format="opus"
    )
    emu.transcriptions.reply(TranscriptionReply("hello world"))
    transcript = await client.audio.transcriptions.create(
        model="gpt-4o-transcribe", file=("voice-message.ogg", voice.content, "audio/ogg")
    )
    assert transcript.text == "hello world"
    emu.transcriptions.default_text = "default words here"
    verbose = await client.audio.transcriptions.create(
        model="whisper-1",
        file=("voice-message.ogg", voice.content, "audio/ogg; codecs=opus"),
        response_format="verbose_json",
        timestamp_granularities=["word"],
        temperature=0.2,
    )
    assert verbose.text == "default words here" and verbose.duration > 0
    assert [w.word for w in verbose.words or []] == ["default", "words", "here"]
    text = await client.audio.transcriptions.create(
        model="whisper-1", file=("v.ogg", voice.content), response_format="text"
    )
    assert text == "default words here"
    srt = await client.audio.transcriptions.create(
        model="whisper-1", file=("v.wav", silent_wav(0.5)), response_format="srt"
    )
    assert "00:00:00,000 --> 00:00:00,500" in srt
    request = emu.transcriptions.requests[1]
    assert request["temperature"] == 0.2 and request["timestamp_granularities"] == ["word"]


async def test_transcription_rejects_what_is_not_the_declared_audio(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    with pytest.raises(openai.BadRequestError) as not_audio:
        await client.audio.transcriptions.create(
            model="whisper-1", file=("voice.ogg", b"hello, not audio")
        )
    assert not_audio.value.message.endswith("Audio file might be corrupted or unsupported")
    with pytest.raises(openai.BadRequestError) as wrong_type:
        await client.audio.transcriptions.create(
            model="whisper-1", file=("notes.txt", silent_wav(0.1))
        )
    assert "Supported formats" in wrong_type.value.message
    with pytest.raises(openai.BadRequestError):  # WAV bytes are not the Opus the type promises
        await client.audio.transcriptions.create(
            model="whisper-1", file=("v.ogg", silent_wav(0.1), "audio/ogg; codecs=opus")
        )
    assert len(emu.take_violations()) == 3
    assert emu.transcriptions.attempts == 0


async def test_transcription_upload_limit_gives_413() -> None:
    async with OpenAIEmulator(max_upload_bytes=1000) as emulator:
        sdk = openai.AsyncOpenAI(api_key="sk-test", base_url=emulator.base_url, max_retries=0)
        with pytest.raises(openai.APIStatusError) as caught:
            await sdk.audio.transcriptions.create(
                model="whisper-1", file=("big.wav", silent_wav(1.0))
            )
        await sdk.close()
        assert caught.value.status_code == 413
        assert len(emulator.take_violations()) == 1


async def test_embeddings_are_deterministic_in_both_encodings(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    first = await client.embeddings.create(model="text-embedding-3-small", input=["cat", "dog"])
    again = await client.embeddings.create(
        model="text-embedding-3-small", input="cat", encoding_format="float"
    )
    assert len(first.data) == 2 and len(first.data[0].embedding) == 1536
    assert first.data[0].embedding == pytest.approx(again.data[0].embedding, abs=1e-6)
    assert first.data[0].embedding != first.data[1].embedding
    assert sum(x * x for x in again.data[0].embedding) == pytest.approx(1.0)
    small = await client.embeddings.create(
        model="text-embedding-3-large", input="cat", dimensions=8
    )
    assert len(small.data[0].embedding) == 8
    assert emu.embeddings.requests[0]["encoding_format"] == "base64"  # the SDK's default


async def test_embeddings_make_texts_sharing_words_similar(client: openai.AsyncOpenAI) -> None:
    answer = await client.embeddings.create(
        model="text-embedding-3-small",
        input=["How long do refunds take?", "Refunds take five days", "We ship from Lyon"],
    )
    question, near, far = (item.embedding for item in answer.data)

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(question, near) > 0.3 > abs(cosine(question, far))
    assert cosine(near, far) == pytest.approx(0.0, abs=0.2)


async def test_models_list_and_retrieve(emu: OpenAIEmulator, client: openai.AsyncOpenAI) -> None:
    listed = [model.id async for model in client.models.list()]
    assert "gpt-4o" in listed
    assert (await client.models.retrieve("gpt-4o")).id == "gpt-4o"
    with pytest.raises(openai.NotFoundError) as caught:
        await client.models.retrieve("gpt-unknown")
    assert caught.value.code == "model_not_found"
