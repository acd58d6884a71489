"""The typing indicator shows for a slow answer only (a quick one needs no extra request)."""

from __future__ import annotations

from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator

from .conftest import ask

TYPING = r"/channels/\d+/typing"


async def test_a_slow_answer_shows_typing_and_a_quick_one_does_not(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    general = discord_emulator.channel("general")
    async with bot_harness.run():
        openai_emulator.chat.reply_text("Quick.")
        await ask(discord_emulator, "a quick one")
        quick = await discord_emulator.wait_for_message(
            general, lambda m: m.content == "Quick.", timeout=20
        )
        assert not discord_emulator.requests_matching("POST", TYPING)

        openai_emulator.chat.latency = 1.5
        openai_emulator.chat.reply_text("Slow.")
        await ask(discord_emulator, "a slow one")
        await discord_emulator.wait_until(
            lambda: discord_emulator.requests_matching("POST", TYPING) or None, timeout=20
        )
        await discord_emulator.wait_for_message(
            general, lambda m: m.content == "Slow.", after=quick, timeout=20
        )
