"""Issue 5: a conversation's messages are answered in order; different ones in parallel."""

from __future__ import annotations

from typing import Any

from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator, TextReply

from .conftest import ask

LATENCY_S = 1.0


async def test_slow_model_in_order_per_conversation_parallel_across(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    def slow_answer(request: dict[str, Any]) -> TextReply:
        text = str(request["messages"][-1]["content"]).strip()
        return TextReply(f"answer to: {text}", latency=LATENCY_S)

    openai_emulator.chat.set_default(slow_answer)
    general, random = discord_emulator.channel("general"), discord_emulator.channel("random")
    async with bot_harness.run():
        await ask(discord_emulator, "A1", channel="general")
        await ask(discord_emulator, "A2", channel="general")
        await ask(discord_emulator, "B1", channel="random")
        a2 = await discord_emulator.wait_for_message(
            general, lambda m: m.content == "answer to: A2", timeout=30
        )
        a1 = await discord_emulator.wait_for_message(
            general, lambda m: m.content == "answer to: A1", timeout=30
        )
        b1 = await discord_emulator.wait_for_message(
            random, lambda m: m.content == "answer to: B1", timeout=30
        )
    asked = [str(r["messages"][-1]["content"]).strip() for r in openai_emulator.chat.requests]
    assert asked.index("A1") < asked.index("A2")
    a2_request = openai_emulator.requests[asked.index("A2")]
    assert a2_request.time >= a1.created_at - 0.05, "A2 must wait for A1's answer"
    assert b1.created_at < a2.created_at, "B1 must not wait behind channel A"
    assert a2.seq > a1.seq
    a2_history = [
        str(m.get("content")) for m in openai_emulator.chat.requests[asked.index("A2")]["messages"]
    ]
    assert "answer to: A1" in a2_history
