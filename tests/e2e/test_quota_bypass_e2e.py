"""Issue 16, finding 3: what a turn spends besides its chat rounds reaches the ledger and quotas."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot.app import ToolcordBot
from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator, TextReply

from .conftest import ask

VERDICT = json.dumps({"violating": False, "rule": None, "why": "Fine."})


async def settled(bot: ToolcordBot) -> None:
    """Wait until a turn was recorded and no turn holds a quota reservation any more."""
    quotas: Any = bot.services.quotas

    async def poll() -> None:
        while (await bot.services.store.usage_totals()).requests < 1 or quotas.running:  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 20)


async def test_the_written_rules_check_is_metered(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    """Before: a turn made 3 chat calls (rules on input, answer, rules on output); 1 was metered."""
    emu = discord_emulator
    usage = {"prompt_tokens": 2000, "completion_tokens": 42}
    openai_emulator.chat.set_default(TextReply(VERDICT, usage=usage))
    async with bot_harness.run(moderation={"mode": "flag", "rules": "Be kind."}) as bot:
        await ask(emu, "hello there")
        await emu.wait_for_message("general", lambda m: "violating" in m.content, timeout=20)
        await settled(bot)
        totals = await bot.services.store.usage_totals(user_id=emu.user("alice").id)
        report = await bot.services.quotas.report(emu.user("alice").id, None)
    assert len(openai_emulator.chat.requests) == 3
    assert (totals.requests, totals.total_tokens) == (3, 3 * 2042)
    daily = next(line for line in report if line.window == "day" and line.unit == "tokens")
    assert daily.used == 3 * 2042
