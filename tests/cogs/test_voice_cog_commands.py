"""On demand: /transcribe and the "Transcribe" message context menu, deferred and ephemeral."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.testing.discord import DiscordEmulator, InteractionHandle
from bot.testing.openai import OpenAIEmulator
from bot.testing.openai.media.ogg import silent_ogg_opus
from bot.voice.audio import clock

from . import voice_kit
from .voice_kit import Recording

voice_bot = voice_kit.voice_bot
record_speech = voice_kit.record_speech

TRANSCRIPTIONS = "/v1/audio/transcriptions"
MESSAGE_MENU = 3


async def _final(handle: InteractionHandle) -> str:
    await handle.wait_original_edit(timeout=20)
    assert handle.deferred and handle.ephemeral, "deferred first, and only the caller sees it"
    content = handle.final_content()
    assert content is not None
    return content


async def test_slash_transcribe_reads_a_real_recording_in_the_given_language(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
    record_speech: Callable[[str], Recording],
) -> None:
    recording = record_speech("bonjour tout le monde")
    openai_emulator.transcriptions.reply_text("Bonjour tout le monde.")
    upload = discord_emulator.attachment("greeting.ogg", recording.data, "audio/ogg")
    async with voice_bot():
        handle = await discord_emulator.inject_interaction(
            "transcribe",
            user="alice",
            channel="general",
            options={"file": upload, "language": "FR"},
        )
        content = await _final(handle)
    assert content == f'> 🎙️ "Bonjour tout le monde." ({clock(recording.duration_s)})'
    request = openai_emulator.transcriptions.requests[0]
    assert request["language"] == "fr"
    assert request["file"].data == recording.data
    assert handle.original is not None and handle.original.allowed_mentions is not None
    assert handle.original.allowed_mentions["parse"] == []


async def test_slash_transcribe_refuses_a_language_that_is_not_a_code(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
) -> None:
    upload = discord_emulator.attachment("a.ogg", silent_ogg_opus(1.0), "audio/ogg")
    async with voice_bot():
        handle = await discord_emulator.inject_interaction(
            "transcribe",
            user="alice",
            channel="general",
            options={"file": upload, "language": "french"},
        )
        content = await _final(handle)
    assert "is not a language code" in content
    assert openai_emulator.attempts(TRANSCRIPTIONS) == 0


@pytest.mark.parametrize(
    ("filename", "data", "settings", "expected"),
    [
        ("empty.ogg", b"", {}, "`empty.ogg` is empty (0 bytes)"),
        ("big.ogg", silent_ogg_opus(10.0), {"max_bytes": 1000}, "up to 1,000 bytes"),
        ("notes.ogg", b"meeting notes: buy milk\n" * 20, {}, "`notes.ogg` is not an audio file"),
    ],
    ids=["empty", "over-the-size-cap", "text-named-ogg"],
)
async def test_slash_transcribe_refuses_unusable_files_without_a_transcription_call(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
    filename: str,
    data: bytes,
    settings: dict[str, Any],
    expected: str,
) -> None:
    upload = discord_emulator.attachment(filename, data, "audio/ogg")
    async with voice_bot(voice=settings):
        handle = await discord_emulator.inject_interaction(
            "transcribe", user="alice", channel="general", options={"file": upload}
        )
        content = await _final(handle)
    assert content.startswith("⚠️ ") and expected in content
    assert openai_emulator.attempts(TRANSCRIPTIONS) == 0


async def test_the_context_menu_transcribes_someone_elses_voice_message(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
) -> None:
    openai_emulator.transcriptions.reply_text("See you at <@123> https://evil.example/x @everyone")
    async with voice_bot():
        voice = await discord_emulator.inject_voice_message(
            "general", "bob", silent_ogg_opus(4.0), duration_secs=4.0
        )
        handle = await discord_emulator.inject_interaction(
            "Transcribe",
            user="alice",
            channel="general",
            target_message=int(voice["id"]),
            command_type=MESSAGE_MENU,
        )
        content = await _final(handle)
    assert content.startswith('> 🎙️ "See you at')
    assert content.endswith("(0:04)")
    assert "https://evil.example" not in content, "links in transcripts are not clickable"
    assert "@everyone" not in content
    assert openai_emulator.attempts(TRANSCRIPTIONS) == 1


async def test_the_context_menu_on_a_message_without_audio_says_so(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
) -> None:
    async with voice_bot():
        text = await discord_emulator.inject_message("general", "bob", "just text")
        handle = await discord_emulator.inject_interaction(
            "Transcribe",
            user="alice",
            channel="general",
            target_message=int(text["id"]),
            command_type=MESSAGE_MENU,
        )
        content = await _final(handle)
    assert content == "⚠️ This message has no audio attachment to transcribe."
    assert openai_emulator.attempts(TRANSCRIPTIONS) == 0
