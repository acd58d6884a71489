"""Spoken replies through the Realtime API (the default ``voice.speech_model``).

A voice message is transcribed and answered in text; the answer is then spoken over the
emulator's Realtime WebSocket (which checks every client event against the official schemas),
encoded to OGG/Opus and sent as a Discord voice message. A dropped socket leaves the text answer
and a short note (or the Speech API fallback); a spent budget stops the spoken reply.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from typing import Any

from bot.testing.discord import DiscordEmulator, StoredMessage
from bot.testing.openai import Fault, OpenAIEmulator, RealtimeReply, TextReply
from bot.testing.openai.media.ogg import ogg_opus_duration, silent_ogg_opus
from bot.testing.openai.media.sniff import sniff_audio
from bot.voice.encode import PCM_RATE
from bot.voice.realtime import INSTRUCTIONS

from . import voice_kit
from .voice_kit import bot_messages, is_voice

voice_bot = voice_kit.voice_bot

SPEECH = "/v1/audio/speech"
REALTIME = "/v1/realtime"
NO_FALLBACK = {"replies_default": True, "speech_fallback_model": ""}
NOTE = "-# 🔇 I could not make a spoken reply this time: "


def _assert_is_voice_message(message: StoredMessage, *, voiced: bool = True) -> None:
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
    wave = base64.b64decode(attachment.waveform, validate=True)
    assert 0 < len(wave) <= 256
    if voiced:  # the emulator's Realtime audio is a tone; its Speech API audio is silence
        assert len(set(wave)) > 1, "a spoken tone gives a waveform that rises and falls"


async def test_a_spoken_reply_is_made_through_the_realtime_api(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
) -> None:
    openai_emulator.transcriptions.reply_text("Tell me about Paris.")
    openai_emulator.chat.reply_text("Paris is **the capital** of France.")
    openai_emulator.realtime.reply(RealtimeReply(seconds=2.5, chunks=5))
    dm = discord_emulator.dm_channel("bob")
    async with voice_bot(voice={"replies_default": True}) as bot:
        await discord_emulator.inject_voice_message(dm, "bob", silent_ogg_opus(1.0))
        spoken = await discord_emulator.wait_for_message(dm, is_voice, timeout=20)
        bob = discord_emulator.user("bob")
        spent = await bot.services.store.usage_totals(user_id=bob.id, model="gpt-realtime-2.1-mini")
    shown, text, voice = bot_messages(discord_emulator, dm)
    assert shown.content.startswith('> 🎙️ "Tell me about Paris."')
    assert text.content == "Paris is **the capital** of France."
    assert voice.id == spoken.id and text.seq < voice.seq
    _assert_is_voice_message(voice)
    assert voice.attachments[0].duration_secs is not None
    assert abs(voice.attachments[0].duration_secs - 2.5) < 0.05
    events = openai_emulator.realtime.client_events
    assert [e["type"] for e in events] == [
        "session.update",
        "conversation.item.create",
        "response.create",
    ]
    assert events[0]["session"] == {
        "type": "realtime",
        "output_modalities": ["audio"],
        "instructions": INSTRUCTIONS,
        "audio": {"output": {"format": {"type": "audio/pcm", "rate": PCM_RATE}, "voice": "marin"}},
    }
    assert events[1]["item"] == {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "Paris is the capital of France."}],
    }
    [request] = openai_emulator.realtime.requests
    assert request["model"] == "gpt-realtime-2.1-mini"
    [handshake] = [r for r in openai_emulator.requests if r.path == REALTIME]
    assert handshake.query["model"] == "gpt-realtime-2.1-mini"
    headers = {name.lower(): value for name, value in handshake.headers.items()}
    assert headers["authorization"].startswith("Bearer ")
    assert openai_emulator.attempts(SPEECH) == 0
    done = openai_emulator.realtime.server_events[-1]
    assert done["type"] == "response.done"
    usage = done["response"]["usage"]
    assert (spent.requests, spent.prompt_tokens, spent.completion_tokens) == (
        1,
        usage["input_tokens"],
        usage["output_tokens"],
    )
    assert usage["output_token_details"]["audio_tokens"] == 50  # 2.5 s at 20 tokens a second
    openai_emulator.assert_no_violations()


async def test_a_socket_dropped_mid_answer_leaves_the_text_answer_and_a_short_note(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
) -> None:
    openai_emulator.chat.reply_text("The answer.")
    openai_emulator.realtime.reply(RealtimeReply(chunks=4, fault=Fault.disconnect(after_chunks=2)))
    dm = discord_emulator.dm_channel("bob")
    async with voice_bot(voice=NO_FALLBACK):
        await discord_emulator.inject_voice_message(dm, "bob", silent_ogg_opus(1.0))
        note = await discord_emulator.wait_for_message(
            dm, lambda m: m.content.startswith("-# 🔇"), timeout=20
        )
    assert note.content == NOTE + "The speech service hung up before it finished speaking."
    assert "The answer." in [m.content for m in bot_messages(discord_emulator, dm)]
    assert not any(is_voice(m) for m in bot_messages(discord_emulator, dm))
    assert openai_emulator.realtime.dropped == 1
    deltas = [
        e
        for e in openai_emulator.realtime.server_events
        if e["type"] == "response.output_audio.delta"
    ]
    assert len(deltas) == 2, "the socket dropped after two of four audio chunks"
    assert openai_emulator.attempts(SPEECH) == 0, "no fallback configured"


async def test_a_dropped_socket_falls_back_to_the_speech_api_while_it_is_served(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
) -> None:
    openai_emulator.chat.reply_text("The answer.")
    openai_emulator.realtime.reply(RealtimeReply(fault=Fault.disconnect(after_chunks=1)))
    dm = discord_emulator.dm_channel("bob")
    fallback = {"replies_default": True, "speech_fallback_model": "gpt-4o-mini-tts"}
    async with voice_bot(voice=fallback):
        await discord_emulator.inject_voice_message(dm, "bob", silent_ogg_opus(1.0))
        spoken = await discord_emulator.wait_for_message(dm, is_voice, timeout=20)
    _assert_is_voice_message(spoken, voiced=False)
    [request] = openai_emulator.speech.requests
    assert (request["model"], request["voice"], request["input"]) == (
        "gpt-4o-mini-tts",
        "marin",
        "The answer.",
    )
    assert not any(m.content.startswith("-# 🔇") for m in bot_messages(discord_emulator, dm))


async def test_a_spent_budget_stops_the_spoken_reply(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
) -> None:
    openai_emulator.chat.reply(
        TextReply("Spent it.", usage={"prompt_tokens": 90, "completion_tokens": 20})
    )
    dm = discord_emulator.dm_channel("bob")
    async with voice_bot(voice=NO_FALLBACK, quotas={"user_daily_tokens": 100}):
        await discord_emulator.inject_voice_message(dm, "bob", silent_ogg_opus(1.0))
        note = await discord_emulator.wait_for_message(
            dm, lambda m: m.content.startswith("-# 🔇"), timeout=20
        )
    renews = dt.datetime.combine(
        dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1), dt.time(), dt.UTC
    )
    stamp = int(renews.timestamp())
    assert note.content == (
        NOTE + "You have used your daily budget of 100 tokens. "
        f"It renews <t:{stamp}:f> (<t:{stamp}:R>)."
    )
    assert "Spent it." in [m.content for m in bot_messages(discord_emulator, dm)]
    assert openai_emulator.realtime.sessions == 0, "no Realtime session was opened"
    assert openai_emulator.attempts(SPEECH) == 0
