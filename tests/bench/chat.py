"""Chat turns against the echo floor: one at a time, and ``in_flight`` conversations at once.

Both bots answer the same kind of mention in the same layout of channels on one Discord emulator
(one bot after the other). toolcord's model is the OpenAI emulator with an instant text answer.

toolcord runs with its production settings except ``chat.edit_interval_s``, which is 0 here: the
per-channel pacer spaces a bot's writes in one channel 1.2 s apart to stay under Discord's real
limit (5 messages per 5 s per channel). The emulator advertises generous limits, the echo bot does
not pace, and the figure wanted is the work per turn, so the pacer's deliberate sleep is left out.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot.testing.discord import DiscordEmulator

from . import model_server
from .bots import BotUnderTest, ModelServer, echo_bot, model, toolcord_bot
from .counts import Counts
from .driver import Driver, Phase, add_channels, conversations_for
from .memory import idle_rss

UNPACED = {"edit_interval_s": 0.0}


@contextlib.asynccontextmanager
async def toolcord_on(
    emu: DiscordEmulator, mode: str, expected: str, **sections: Any
) -> AsyncIterator[tuple[BotUnderTest, ModelServer]]:
    """toolcord (unpaced) on ``emu`` with the model server in ``mode``, in a fresh data folder."""
    chat = {**UNPACED, **sections.pop("chat", {})}
    with tempfile.TemporaryDirectory(prefix="toolcord-bench-") as folder:
        async with (
            model(mode) as server,
            toolcord_bot(emu, server, Path(folder), expected, chat=chat, **sections) as bot,
        ):
            yield bot, server


async def run_phases(
    emu: DiscordEmulator, bot: BotUnderTest, processes: dict[str, int], counts: Counts
) -> dict[str, Any]:
    """Warm up, then the sequential and the pipelined phase, each on channels of its own."""
    per = counts.turns_per_conversation
    warmup = add_channels(emu, "warm", conversations_for(counts.warmup, per, counts.in_flight))
    sequential = add_channels(emu, "seq", conversations_for(counts.sequential, per))
    pipelined = add_channels(
        emu, "pipe", conversations_for(counts.pipelined, per, counts.in_flight)
    )
    driver = Driver(emu, bot, processes)
    await driver.pipelined(warmup, counts.warmup, counts.in_flight)
    seq = await driver.sequential(sequential, counts.sequential)
    pipe = await driver.pipelined(pipelined, counts.pipelined, counts.in_flight)
    return {"sequential": seq.summary(), "pipelined": pipe.summary()}


async def measure_echo(counts: Counts) -> dict[str, Any]:
    """The floor: the bare discord.py echo bot."""
    async with DiscordEmulator() as emu, echo_bot(emu) as bot:
        idle = await idle_rss(bot)
        figures = await run_phases(emu, bot, {"bot": bot.pid, "emulator": os.getpid()}, counts)
    return {**figures, "rss_idle_mb": idle}


async def measure_toolcord(counts: Counts) -> dict[str, Any]:
    """toolcord with an instant scripted model."""
    async with (
        DiscordEmulator() as emu,
        toolcord_on(emu, "text", model_server.REPLY_TEXT) as (
            bot,
            server,
        ),
    ):
        processes = {"bot": bot.pid, "emulator": os.getpid(), "model": server.pid}
        return await run_phases(emu, bot, processes, counts)


def ratios(echo: dict[str, Any], chat: dict[str, Any]) -> dict[str, Any]:
    """``seq_cost_ratio`` (time per turn over time per echo) and ``pipelined_throughput_ratio``."""
    echo_seq, chat_seq = echo["sequential"], chat["sequential"]
    echo_pipe, chat_pipe = echo["pipelined"], chat["pipelined"]
    return {
        "seq_cost_ratio": round(echo_seq["per_s"] / chat_seq["per_s"], 3),
        "pipelined_throughput_ratio": round(chat_pipe["per_s"] / echo_pipe["per_s"], 3),
        "seq_cpu_cost_ratio": _cpu_ratio(chat_seq, echo_seq),
        "echo_sequential_per_s": echo_seq["per_s"],
        "chat_sequential_per_s": chat_seq["per_s"],
        "echo_pipelined_per_s": echo_pipe["per_s"],
        "chat_pipelined_per_s": chat_pipe["per_s"],
    }


def _cpu_ratio(chat: dict[str, Any], echo: dict[str, Any]) -> float | None:
    """Bot CPU per chat turn over bot CPU per echo round trip (robust to a noisy machine)."""
    chat_cpu, echo_cpu = chat.get("cpu_ms_per_turn_bot"), echo.get("cpu_ms_per_turn_bot")
    if not chat_cpu or not echo_cpu:
        return None
    return round(chat_cpu / echo_cpu, 3)


__all__ = ["Phase", "measure_echo", "measure_toolcord", "ratios", "toolcord_on"]
