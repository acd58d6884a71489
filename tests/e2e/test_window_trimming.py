"""Issue 4: when the token budget cuts through a tool-call round, the request stays valid.

Every request reaching the OpenAI emulator is checked against the official schema by the emulator;
this test also checks the rule the schema cannot express: a ``tool`` message always follows the
assistant message whose ``tool_calls`` it answers, and every such call is answered.
"""

from __future__ import annotations

from typing import Any

from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator, ToolCall

from .conftest import ask


def _pairs_intact(messages: list[dict[str, Any]]) -> bool:
    open_calls: set[str] = set()
    for message in messages:
        if message["role"] == "tool":
            if message["tool_call_id"] not in open_calls:
                return False
            open_calls.discard(message["tool_call_id"])
            continue
        if open_calls:
            return False
        open_calls = {call["id"] for call in message.get("tool_calls") or []}
    return not open_calls


async def test_window_never_splits_a_tool_round(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    general = discord_emulator.channel("general")
    async with bot_harness.run(
        openai={"context_tokens": 1000}, tools={"modules": ["examples.dice"]}
    ):
        for n in range(8):
            openai_emulator.chat.reply_tool_calls(
                [
                    ToolCall("roll_dice", {"sides": 6, "count": 3}, id=f"call_{n}_a"),
                    ToolCall("roll_dice", {"sides": 20, "count": 1}, id=f"call_{n}_b"),
                ]
            )
            openai_emulator.chat.reply_text(f"round {n} done " + "filler " * 40)
            await ask(discord_emulator, f"roll round {n} " + "please " * 30)
            await discord_emulator.wait_for_message(
                general, lambda m, n=n: m.content.startswith(f"round {n} done"), timeout=20
            )
    requests = openai_emulator.chat.requests
    assert len(requests) == 16
    first_rounds = [r for r in requests if r["messages"][-1]["role"] == "user"]
    assert all(_pairs_intact(r["messages"]) for r in requests)
    lengths = [len(r["messages"]) for r in first_rounds]
    assert max(lengths) < 2 + 8 * 5, "the budget must have trimmed the history"
    assert any(any(m["role"] == "tool" for m in r["messages"][:-1]) for r in first_rounds[1:]), (
        "some earlier tool round must still fit in the window"
    )
