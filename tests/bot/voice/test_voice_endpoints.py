"""Transcriber and SpeechSynth on the real openai client against the OpenAI emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest
import pytest_asyncio

from bot.testing.openai import Fault, OpenAIEmulator, SpeechReply
from bot.testing.openai.media.audio import silent_mp3
from bot.testing.openai.media.ogg import silent_ogg_opus
from bot.voice import AudioClip, AudioLimits, SpeechSynth, Transcriber, VoiceFailure, validate

TRANSCRIPTIONS = "/v1/audio/transcriptions"
SPEECH = "/v1/audio/speech"
LIMITS = AudioLimits(max_bytes=25 * 1024 * 1024, max_duration_s=600.0)


@pytest_asyncio.fixture
async def client(openai_emulator: OpenAIEmulator) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        api_key="sk-test", base_url=openai_emulator.base_url, max_retries=0
    ) as made:
        yield made


def _clip() -> AudioClip:
    return validate("voice-message.ogg", silent_ogg_opus(2.0), LIMITS)


async def test_a_transcript_comes_back_with_model_and_language_sent(
    openai_emulator: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    openai_emulator.transcriptions.reply_text("  Guten Tag.  ")
    text = await Transcriber(client, "gpt-transcribe").transcribe(_clip(), "DE")
    assert text == "Guten Tag."
    request = openai_emulator.transcriptions.requests[0]
    assert (request["model"], request["language"]) == ("gpt-transcribe", "de")
    assert request["file"].filename == "voice-message.ogg"


async def test_no_language_is_sent_when_none_is_given(
    openai_emulator: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    await Transcriber(client, "gpt-transcribe").transcribe(_clip())
    assert "language" not in openai_emulator.transcriptions.requests[0]


@pytest.mark.parametrize(
    ("fault", "kind", "words"),
    [
        (Fault.rate_limit(), "rate_limited", "busy right now"),
        (Fault.outage(500), "failed", "failed; try again"),
        (Fault.http_error(400, "Audio file might be corrupted"), "rejected", "could not use"),
        (Fault.stall(30.0), "timeout", "took too long"),
    ],
    ids=["429", "500", "400", "timeout"],
)
async def test_each_failure_has_its_own_message(
    openai_emulator: OpenAIEmulator, fault: Fault, kind: str, words: str
) -> None:
    openai_emulator.transcriptions.reply_fault(fault)
    async with openai.AsyncOpenAI(
        api_key="sk-test", base_url=openai_emulator.base_url, max_retries=0, timeout=1.0
    ) as client:
        with pytest.raises(VoiceFailure) as caught:
            await Transcriber(client, "gpt-transcribe").transcribe(_clip())
    assert caught.value.kind == kind
    assert words in caught.value.user_message


async def test_a_refused_key_opens_the_breaker_so_later_calls_make_no_request(
    openai_emulator: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    openai_emulator.transcriptions.reply_fault(Fault.invalid_api_key(times=None))
    transcriber = Transcriber(client, "gpt-transcribe")
    for _ in range(3):
        with pytest.raises(VoiceFailure) as caught:
            await transcriber.transcribe(_clip())
        assert caught.value.kind == "auth" and "OPENAI_API_KEY" in caught.value.user_message
    assert openai_emulator.attempts(TRANSCRIPTIONS) == 1


async def test_silence_in_the_transcript_is_reported(
    openai_emulator: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    openai_emulator.transcriptions.reply_text("   ")
    with pytest.raises(VoiceFailure, match="could not hear any speech"):
        await Transcriber(client, "gpt-transcribe").transcribe(_clip())


async def test_a_bad_language_is_refused_before_any_request(
    openai_emulator: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    with pytest.raises(VoiceFailure, match="not a language code"):
        await Transcriber(client, "gpt-transcribe").transcribe(_clip(), "english")
    assert openai_emulator.attempts(TRANSCRIPTIONS) == 0


async def test_speech_becomes_a_measured_ogg_opus_clip(
    openai_emulator: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    openai_emulator.speech.reply(SpeechReply(seconds=3.0))
    clip = await SpeechSynth(client, "gpt-4o-mini-tts", "alloy").speak("Hello there.")
    assert clip.data.startswith(b"OggS")
    assert clip.duration_s == pytest.approx(3.0, abs=0.02)
    assert clip.waveform
    request = openai_emulator.speech.requests[0]
    assert request["response_format"] == "opus"
    assert (request["model"], request["voice"], request["input"]) == (
        "gpt-4o-mini-tts",
        "alloy",
        "Hello there.",
    )


async def test_speech_that_is_not_ogg_opus_is_refused(
    openai_emulator: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    openai_emulator.speech.reply(SpeechReply(audio=silent_mp3(1.0), content_type="audio/ogg"))
    with pytest.raises(VoiceFailure) as caught:
        await SpeechSynth(client, "gpt-4o-mini-tts", "alloy").speak("Hi.")
    assert caught.value.kind == "bad_audio"
