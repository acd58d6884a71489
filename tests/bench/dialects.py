"""The Responses dialect beside the chat dialect: bot CPU per chat turn and per tool turn.

One run, one Discord emulator, one model server answering both ``/v1/chat/completions`` and
``/v1/responses``; toolcord runs once per dialect and phase (``openai.api_dialect`` forced), with
the same sequential turns as ``chat.py`` and ``tools_round.py``. The figures are the bot's CPU
milliseconds per turn, which a busy machine skews less than wall time, and their ratios
(Responses over chat; toolcord issue 15's target is at most 1.2).
"""

from __future__ import annotations

import os
from typing import Any

from bot.testing.discord import DiscordEmulator

from . import model_server
from .chat import toolcord_on
from .counts import Counts
from .driver import Driver, add_channels, conversations_for
from .tools_round import TOOL_MODULES

DIALECTS = ("chat", "responses")


async def measure(counts: Counts) -> dict[str, Any]:
    """Sequential chat turns and tool turns on each dialect; returns figures and the ratios."""
    figures: dict[str, Any] = {dialect: {} for dialect in DIALECTS}
    # The two dialects of one kind of turn run back to back, so a change in the machine's
    # load (other work on a shared machine) skews their ratio as little as possible.
    for kind, mode, turns in (
        ("chat_turn", "text", counts.sequential),
        ("tool_turn", "tool", counts.tool_sequential),
    ):
        for dialect in DIALECTS:
            figures[dialect][kind] = await _phase(counts, dialect, mode, turns)
    return {**figures, **ratios(figures)}


async def _phase(counts: Counts, dialect: str, mode: str, turns: int) -> dict[str, Any]:
    per = counts.turns_per_conversation
    expected = model_server.REPLY_TEXT if mode == "text" else model_server.TOOL_ANSWER
    sections: dict[str, Any] = {"openai": {"api_dialect": dialect}}
    if mode == "tool":
        sections["tools"] = {"modules": TOOL_MODULES}
    async with DiscordEmulator() as emu:
        warmup = add_channels(emu, "warm", conversations_for(counts.warmup, per, counts.in_flight))
        channels = add_channels(emu, mode, conversations_for(turns, per))
        async with toolcord_on(emu, mode, expected, **sections) as (bot, server):
            processes = {"bot": bot.pid, "emulator": os.getpid(), "model": server.pid}
            driver = Driver(emu, bot, processes)
            await driver.pipelined(warmup, counts.warmup, counts.in_flight)
            phase = await driver.sequential(channels, turns)
    summary: dict[str, Any] = phase.summary()
    return summary


def ratios(figures: dict[str, Any]) -> dict[str, Any]:
    """``responses_chat_cpu_ratio`` and ``responses_tool_cpu_ratio``: bot CPU per turn, Responses
    over chat (None when a phase ran too few turns to measure CPU)."""
    out: dict[str, Any] = {}
    for kind, key in (
        ("chat_turn", "responses_chat_cpu_ratio"),
        ("tool_turn", "responses_tool_cpu_ratio"),
    ):
        chat = figures["chat"][kind].get("cpu_ms_per_turn_bot")
        responses = figures["responses"][kind].get("cpu_ms_per_turn_bot")
        out[key] = round(responses / chat, 3) if chat and responses else None
    return out
