"""A bot that shuts down lets the answers it is writing finish before it disconnects."""

from __future__ import annotations

import logging

import pytest

from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator

from .conftest import ask

TYPING = r"/channels/\d+/typing"


async def test_an_answer_in_flight_at_shutdown_is_still_delivered(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    caplog: pytest.LogCaptureFixture,
) -> None:
    general = discord_emulator.channel("general")
    openai_emulator.chat.latency = 3.0
    openai_emulator.chat.reply_text("Finished despite the shutdown.")
    async with bot_harness.run() as bot:
        await ask(discord_emulator, "a slow question")
        await discord_emulator.wait_until(
            lambda: discord_emulator.requests_matching("POST", TYPING) or None, timeout=20
        )
        bot_id = bot.user.id  # type: ignore[union-attr]
        assert not [m for m in discord_emulator.messages(general) if m.author.id == bot_id]
    assert bot.is_closed()
    answers = [m for m in discord_emulator.messages(general) if m.author.id == bot.user.id]  # type: ignore[union-attr]
    assert [m.content for m in answers] == ["Finished despite the shutdown."]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
