"""The Realtime speech path below the cog: PCM encoding and the Speech API fallback's lifetime."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest
import pytest_asyncio

from bot.settings import Settings, VoiceSettings
from bot.testing.openai import Fault, OpenAIEmulator, RealtimeReply
from bot.testing.openai.routes.realtime import pcm_tone
from bot.voice import RealtimeSynth, SpeechSynth, VoiceFailure, VoiceService, ogg
from bot.voice.encode import EncodingFailed, pcm16_to_ogg_opus

MODEL = "gpt-realtime-2.1-mini"


@pytest_asyncio.fixture
async def client(openai_emulator: OpenAIEmulator) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        api_key="sk-test", base_url=openai_emulator.base_url, max_retries=0
    ) as made:
        yield made


def test_pcm_becomes_ogg_opus_of_the_same_length() -> None:
    data = pcm16_to_ogg_opus(pcm_tone(1.5))
    assert ogg.codec(data) == "opus"
    duration = ogg.opus_duration(data)
    assert duration is not None and abs(duration - 1.5) < 0.03


def test_opus_tools_read_the_encoded_file_as_valid_ogg_opus(tmp_path: Path) -> None:
    if shutil.which("opusinfo") is None:
        pytest.skip("needs opusinfo: install opus-tools (Debian; scripts/test installs it as root)")
    path = tmp_path / "voice.ogg"
    path.write_bytes(pcm16_to_ogg_opus(pcm_tone(1.5)))
    checked = subprocess.run(
        ["opusinfo", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "WARNING" not in checked.stdout and "ERROR" not in checked.stdout
    assert "Original sample rate: 24000 Hz" in checked.stdout
    assert "Playback length: 0m:01.500s" in checked.stdout


@pytest.mark.parametrize("pcm", [b"", b"\x01\x02\x03"])
def test_what_is_not_16_bit_pcm_is_refused(pcm: bytes) -> None:
    with pytest.raises(EncodingFailed, match="are not 16-bit PCM samples"):
        pcm16_to_ogg_opus(pcm)


def _service(client: openai.AsyncOpenAI, today: dt.date) -> VoiceService:
    settings = Settings(voice=VoiceSettings(speech_fallback_model="gpt-4o-mini-tts"))
    service = VoiceService.from_settings(settings, client, today=lambda: today)
    assert isinstance(service.speech, RealtimeSynth)
    assert isinstance(service.fallback, SpeechSynth)
    return service


async def test_the_fallback_speaks_while_its_model_is_served(
    openai_emulator: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    openai_emulator.realtime.reply(RealtimeReply(fault=Fault.disconnect(after_chunks=1)))
    spoken = await _service(client, dt.date(2027, 1, 5)).speak_answer("Hello there.")
    assert spoken is not None and spoken.model == "gpt-4o-mini-tts"
    assert openai_emulator.speech.requests[0]["voice"] == "marin"


async def test_the_fallback_is_not_called_once_its_model_has_shut_down(
    openai_emulator: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    openai_emulator.realtime.reply(RealtimeReply(fault=Fault.disconnect(after_chunks=1)))
    with pytest.raises(VoiceFailure) as caught:
        await _service(client, dt.date(2027, 1, 6)).speak_answer("Hello there.")
    assert caught.value.kind == "dropped"
    assert openai_emulator.speech.attempts == 0


async def test_a_speech_api_model_in_speech_model_uses_the_speech_api_without_fallback(
    client: openai.AsyncOpenAI,
) -> None:
    settings = Settings(voice=VoiceSettings(speech_model="gpt-4o-mini-tts"))
    service = VoiceService.from_settings(settings, client)
    assert isinstance(service.speech, SpeechSynth) and service.fallback is None


async def test_the_realtime_usage_is_on_the_clip(
    openai_emulator: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    openai_emulator.realtime.reply(RealtimeReply(seconds=1.0, transcript="Hi."))
    clip = await RealtimeSynth(client, MODEL, "cedar").speak("Hi.")
    done = openai_emulator.realtime.server_events[-1]["response"]
    assert (clip.input_tokens, clip.output_tokens) == (
        done["usage"]["input_tokens"],
        done["usage"]["output_tokens"],
    )
    assert done["audio"]["output"]["voice"] == "cedar"


def test_a_speech_api_only_voice_with_a_realtime_model_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="speech_voice 'onyx' exists only in the Speech API"):
        VoiceSettings(speech_voice="onyx")
    assert VoiceSettings(speech_model="tts-1-hd", speech_voice="onyx").speech_voice == "onyx"
