"""The README's "add your own tool" example, run exactly as a bot owner would: one module, named in
the config, called by the model, answered in Discord."""

from __future__ import annotations

from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator, ToolCall
from tools.registry import ToolRegistry
from tools.schema import assert_strict_tool

from .conftest import ask


def test_the_example_module_loads_with_a_strict_schema() -> None:
    registry = ToolRegistry()
    registry.load_module("examples.dice")
    tool = registry.get("roll_dice")
    assert tool is not None
    assert_strict_tool(tool.openai_schema())


async def test_the_model_rolls_the_example_dice(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    openai_emulator.chat.reply_tool_calls(
        [ToolCall("roll_dice", {"sides": 20, "count": 2}, id="call_dice")]
    )
    openai_emulator.chat.reply_text("You rolled well.")
    async with bot_harness.run(tools={"modules": ["examples.dice"]}):
        await ask(discord_emulator, "roll 2d20")
        await discord_emulator.wait_for_message(
            discord_emulator.channel("general"),
            lambda m: m.content == "You rolled well.",
            timeout=20,
        )
    first, second = openai_emulator.chat.requests
    assert [t["function"]["name"] for t in first["tools"]] == ["roll_dice"]
    result = next(m for m in second["messages"] if m["role"] == "tool")
    assert result["tool_call_id"] == "call_dice"
    assert result["content"].startswith("Rolled 2d20:")
