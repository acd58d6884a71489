"""Spoken replies through the Speech API (``voice.speech_model`` a Speech API model).

The Realtime path (the default) is in test_voice_cog_realtime.py.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from bot.testing.discord import DiscordEmulator, StoredMessage
from bot.testing.openai import Fault, OpenAIEmulator
from bot.testing.openai.media.ogg import ogg_opus_duration, silent_ogg_opus
from bot.testing.openai.media.sniff import sniff_audio

from . import voice_kit
from .voice_kit import Recording, bot_messages, is_voice

voice_bot = voice_kit.voice_bot
record_speech = voice_kit.record_speech

SPEECH = "/v1/audio/speech"
MESSAGE_POST = r"/channels/\d+/messages"
SPEECH_API = {"speech_model": "gpt-4o-mini-tts"}


def _assert_is_voice_message(message: StoredMessage) -> None:
    assert is_voice(message), "the voice flag (8192) is set"
    assert message.content == ""
    [attachment] = message.attachments
    assert attachment.filename == "voice-message.ogg"
    assert attachment.content_type == "audio/ogg"
    assert sniff_audio(attachment.data) == "ogg-opus"
    duration = ogg_opus_duration(attachment.data)
    assert duration is not None and duration > 0
    assert attachment.duration_secs == round(duration, 2)
    assert attachment.waveform is not None
    assert 0 < len(base64.b64decode(attachment.waveform, validate=True)) <= 256
    assert attachment.is_voice_message


async def test_a_spoken_reply_follows_the_text_answer(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
    record_speech: Callable[[str], Recording],
) -> None:
    recording = record_speech("tell me about Paris")
    openai_emulator.transcriptions.reply_text("Tell me about Paris.")
    openai_emulator.chat.reply_text(
        "Paris is **the capital** of France. See https://example.org/paris"
    )
    dm = discord_emulator.dm_channel("bob")
    async with voice_bot(voice={"replies_default": True, **SPEECH_API}) as bot:
        source = await discord_emulator.inject_voice_message(
            dm,
            "bob",
            recording.data,
            duration_secs=round(recording.duration_s, 2),
            waveform=recording.waveform,
        )
        spoken = await discord_emulator.wait_for_message(dm, is_voice, timeout=20)
    shown, text, voice = bot_messages(discord_emulator, dm)
    assert shown.content.startswith('> 🎙️ "Tell me about Paris."')
    assert text.content.startswith("Paris is **the capital** of France.")
    assert voice.id == spoken.id and text.seq < voice.seq
    _assert_is_voice_message(voice)
    assert voice.message_reference is not None
    assert int(voice.message_reference["message_id"]) == int(source["id"])
    [request] = openai_emulator.speech.requests
    assert request["response_format"] == "opus"
    assert request["model"] == bot.settings.voice.speech_model
    assert request["voice"] == bot.settings.voice.speech_voice
    assert request["input"] == ("Paris is the capital of France. See (link in the written answer)")
    post = discord_emulator.requests_matching("POST", MESSAGE_POST)[-1]
    assert post.json["flags"] == 8192 and not post.json.get("content")
    assert post.json["allowed_mentions"]["parse"] == []
    [meta] = post.json["attachments"]
    assert meta["duration_secs"] == voice.attachments[0].duration_secs
    assert meta["waveform"] == voice.attachments[0].waveform
    [upload] = post.files
    assert upload.filename == "voice-message.ogg"


async def test_a_guild_that_turned_spoken_replies_on_gets_them(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
) -> None:
    general = discord_emulator.channel("general")
    alice = discord_emulator.user("alice")
    openai_emulator.chat.reply_text("Hi Alice.")
    openai_emulator.chat.reply_text("Sure, it is noon.")
    async with voice_bot(discord={"message_content_intent": True}, voice=SPEECH_API) as bot:
        await bot.services.store.set_settings(
            "guild", discord_emulator.guild.id, {"voice_replies": True}
        )
        await discord_emulator.inject_message(
            general,
            alice,
            f"<@{discord_emulator.bot_user.id}> hi",
            mentions=[discord_emulator.bot_user],
        )
        greeting = await discord_emulator.wait_for_message(
            general, lambda m: m.content == "Hi Alice.", timeout=20
        )
        voice = discord_emulator.attachment(
            "voice-message.ogg",
            silent_ogg_opus(1.0),
            "audio/ogg",
            duration_secs=1.0,
            waveform=b"\0",
        )
        await discord_emulator.inject_message(
            general, alice, attachments=[voice], flags=8192, reference=greeting.id
        )
        spoken = await discord_emulator.wait_for_message(general, is_voice, timeout=20)
    _assert_is_voice_message(spoken)
    assert openai_emulator.speech.requests[0]["input"] == "Sure, it is noon."


async def test_spoken_replies_are_off_by_default(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
) -> None:
    openai_emulator.chat.reply_text("Only text.")
    openai_emulator.chat.reply_text("Second.")
    dm = discord_emulator.dm_channel("bob")
    async with voice_bot():
        await discord_emulator.inject_voice_message(dm, "bob", silent_ogg_opus(1.0))
        await discord_emulator.wait_for_message(dm, lambda m: m.content == "Only text.", timeout=20)
        await discord_emulator.inject_message(dm, "bob", "and now?")
        await discord_emulator.wait_for_message(dm, lambda m: m.content == "Second.", timeout=20)
    assert openai_emulator.attempts(SPEECH) == 0
    assert not any(is_voice(m) for m in bot_messages(discord_emulator, dm))


async def test_a_failed_speech_request_leaves_the_text_answer_and_says_so(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
) -> None:
    openai_emulator.speech.reply_fault(Fault.outage(500))
    openai_emulator.chat.reply_text("The answer.")
    dm = discord_emulator.dm_channel("bob")
    async with voice_bot(voice={"replies_default": True, **SPEECH_API}):
        await discord_emulator.inject_voice_message(dm, "bob", silent_ogg_opus(1.0))
        notice = await discord_emulator.wait_for_message(
            dm, lambda m: m.content.startswith("-# 🔇"), timeout=20
        )
    assert "could not make a spoken reply" in notice.content
    assert "The answer." in [m.content for m in bot_messages(discord_emulator, dm)]
    assert not any(is_voice(m) for m in bot_messages(discord_emulator, dm))


async def test_the_guild_settings_service_decides_where_and_how_voice_is_answered(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
) -> None:
    general = discord_emulator.channel("general")
    openai_emulator.transcriptions.reply_text("Ahoy?")
    openai_emulator.chat.reply_text("Arr, ahoy.")
    async with voice_bot(discord={"message_content_intent": True}, voice=SPEECH_API) as bot:
        service = bot.services.guild_settings
        await service.update(
            "channel", general.id, free_chat=True, voice_replies=True, persona="a pirate"
        )
        await discord_emulator.inject_voice_message(general, "alice", silent_ogg_opus(1.0))
        spoken = await discord_emulator.wait_for_message(general, is_voice, timeout=20)
    _assert_is_voice_message(spoken)
    system = [m["content"] for m in openai_emulator.chat.requests[0]["messages"][:2]]
    assert any("a pirate" in str(text) for text in system)
    assert openai_emulator.speech.requests[0]["input"] == "Arr, ahoy."
