"""A chat turn with one tool round: the model calls the instant ``roll_dice`` tool, then answers.

Each turn is two model requests (the tool call, then the answer with the tool result), the tool
run through the dispatcher, the progress line and the final text in Discord, and the whole round
stored. Compared with the echo floor like ``chat.py``'s sequential phase.
"""

from __future__ import annotations

import os
from typing import Any

from bot.testing.discord import DiscordEmulator

from . import model_server
from .chat import toolcord_on
from .counts import Counts
from .driver import Driver, add_channels, conversations_for

TOOL_MODULES = ["tools.weather", "tools.search", "examples.dice"]


async def measure(counts: Counts) -> dict[str, Any]:
    """Sequential tool rounds (after a pipelined warm-up)."""
    per = counts.turns_per_conversation
    async with DiscordEmulator() as emu:
        warmup = add_channels(emu, "warm", conversations_for(counts.warmup, per, counts.in_flight))
        channels = add_channels(emu, "tool", conversations_for(counts.tool_sequential, per))
        async with toolcord_on(
            emu, "tool", model_server.TOOL_ANSWER, tools={"modules": TOOL_MODULES}
        ) as (bot, server):
            processes = {"bot": bot.pid, "emulator": os.getpid(), "model": server.pid}
            driver = Driver(emu, bot, processes)
            await driver.pipelined(warmup, counts.warmup, counts.in_flight)
            phase = await driver.sequential(channels, counts.tool_sequential)
    return {"sequential": phase.summary()}


def ratio(echo: dict[str, Any], tool: dict[str, Any]) -> dict[str, Any]:
    """``tool_seq_cost_ratio``: time per tool turn over time per echo round trip."""
    echo_rate, tool_rate = echo["sequential"]["per_s"], tool["sequential"]["per_s"]
    return {
        "tool_seq_cost_ratio": round(echo_rate / tool_rate, 3),
        "tool_sequential_per_s": tool_rate,
    }
