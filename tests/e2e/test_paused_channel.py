"""A channel where Discord refused the bot is paused: turns queued there spend no model call."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.store import keys
from bot.testing.discord import DiscordEmulator, Perm
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator

from .conftest import ask

T = TypeVar("T")


async def _poll(check: Callable[[], Awaitable[T | None]], timeout_s: float) -> T:
    """Ask ``check`` every 50 ms until it gives a value (a generous bound, not a fixed wait)."""
    async with asyncio.timeout(timeout_s):
        while (found := await check()) is None:  # noqa: ASYNC110 - a store state, no event
            await asyncio.sleep(0.05)
    return found


async def test_turns_queued_in_a_refused_channel_do_not_call_the_model(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    general = discord_emulator.channel("general")
    discord_emulator.deny_bot(general, Perm.SEND_MESSAGES)
    openai_emulator.chat.latency = 0.5  # the later messages queue behind the first answer
    key = keys.channel_key(discord_emulator.guild.id, general.id, None)
    async with bot_harness.run(breaker={"channel_pause_s": 600}) as bot:
        for number in range(4):
            await ask(discord_emulator, f"question {number}")

        async def settled() -> dict[str, Any] | None:
            document = await bot.services.store.export_conversation(key)
            exchanges = (document or {}).get("exchanges", [])
            done = [e for e in exchanges if e.get("status") != "pending"]
            return document if len(done) == 4 and bot.conversations.running == 0 else None

        document = await _poll(settled, timeout_s=30)
    assert bot.pacer.is_paused(general.id)
    assert openai_emulator.chat.attempts == 1, "only the first turn, before the refusal"
    assert [e["status"] for e in document["exchanges"]] == ["failed"] * 4
