"""The README's "test your own tool" example, verbatim, with an owner config naming the dice module.

In this repository the README's ``dice.py`` is ``examples/dice.py``; the owner's config fixture
says so, as a bot owner's config/bot.toml would name their ``dice`` module.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.testing.openai import ToolCall
from bot.testing.tool_calls import tool_result


@pytest.fixture
def toolcord_config() -> dict[str, Any]:
    return {"tools": {"modules": ["tools.weather", "examples.dice"]}}


async def test_the_model_rolls_my_dice(
    discord_emulator, openai_emulator, toolcord_bot, toolcord_ask
):
    roll = ToolCall("roll_dice", {"sides": 20, "count": 2}, id="c1")
    openai_emulator.chat.reply_tool_calls([roll])
    openai_emulator.chat.reply_text("You rolled well.")
    await toolcord_ask("roll 2d20")
    await discord_emulator.wait_for_message(
        discord_emulator.channel("general"), lambda m: m.content == "You rolled well."
    )
    assert tool_result(openai_emulator, "c1").startswith("Rolled 2d20:")
    offered = [tool["function"]["name"] for tool in openai_emulator.chat.requests[0]["tools"]]
    assert "roll_dice" in offered


async def test_tool_result_names_what_was_answered_when_the_call_is_missing(
    discord_emulator, openai_emulator, toolcord_bot, toolcord_ask
):
    roll = ToolCall("roll_dice", {"sides": 6, "count": 1}, id="c7")
    openai_emulator.chat.reply_tool_calls([roll])
    openai_emulator.chat.reply_text("Done.")
    await toolcord_ask("roll")
    await discord_emulator.wait_for_message(
        discord_emulator.channel("general"), lambda m: m.content == "Done."
    )
    with pytest.raises(AssertionError) as refused:
        tool_result(openai_emulator, "c1")
    assert str(refused.value) == (
        "the bot sent no result for tool call 'c1' to the model (results sent for: ['c7']; "
        "tools offered: ['roll_dice', 'weather'])"
    )
