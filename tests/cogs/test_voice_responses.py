"""A voice message answered on the Responses dialect: the transcript reaches ``input`` as text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.testing.discord import DiscordEmulator
from bot.testing.openai import OpenAIEmulator
from bot.testing.openai.media.ogg import silent_ogg_opus

from . import voice_kit

voice_bot = voice_kit.voice_bot


async def test_a_voice_message_is_answered_on_the_responses_dialect(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
) -> None:
    openai_emulator.transcriptions.reply_text("What is the weather in Paris?")
    openai_emulator.responses.reply_text("It is sunny in Paris.")
    bob = discord_emulator.user("bob")
    dm = discord_emulator.dm_channel(bob)
    async with voice_bot(openai={"api_dialect": "responses"}):
        await discord_emulator.inject_voice_message(dm, bob, silent_ogg_opus(1.5))
        await discord_emulator.wait_for_message(
            dm, lambda m: m.content == "It is sunny in Paris.", timeout=20
        )
    (request,) = openai_emulator.responses.requests
    user_turn = request["input"][-1]
    assert user_turn["role"] == "user"
    assert "What is the weather in Paris?" in str(user_turn["content"])
    assert "untrusted user content" in str(user_turn["content"])
    assert openai_emulator.chat.attempts == 0
