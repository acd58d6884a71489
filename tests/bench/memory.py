"""Resident memory: the bot at rest, and what 1,000 more conversations add.

The bot starts in a world with enough channels, answers a small warm-up, then one turn in each of
``counts.memory_conversations`` new conversations (``in_flight`` at a time). Memory is read from
``/proc`` once the bot's CPU has gone quiet (its last writes are in the store).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from bot.testing.discord import DiscordEmulator

from . import model_server
from .bots import BotUnderTest, model, toolcord_bot
from .counts import Counts
from .driver import Driver, add_channels
from .procstat import cpu_seconds, rss_mb

WARMUP_CONVERSATIONS = 32
QUIET_CPU_S = 0.005
QUIET_POLL_S = 0.25
QUIET_TIMEOUT_S = 30.0


async def quiet_rss(pid: int) -> float:
    """RSS once the process used under ``QUIET_CPU_S`` of CPU in a poll interval."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + QUIET_TIMEOUT_S
    before = cpu_seconds(pid)
    while loop.time() < deadline:
        await asyncio.sleep(QUIET_POLL_S)
        now = cpu_seconds(pid)
        if now - before < QUIET_CPU_S:
            break
        before = now
    return rss_mb(pid)


async def idle_rss(bot: BotUnderTest) -> float:
    """The bot's RSS right after it became ready, once quiet."""
    return round(await quiet_rss(bot.pid), 2)


async def measure(counts: Counts) -> dict[str, Any]:
    """``rss_idle_mb`` and ``rss_per_1000_conversations_mb`` of toolcord."""
    conversations = counts.memory_conversations
    with tempfile.TemporaryDirectory(prefix="toolcord-bench-") as folder:
        async with DiscordEmulator() as emu, model("text") as server:
            warmup = add_channels(emu, "warm", WARMUP_CONVERSATIONS)
            channels = add_channels(emu, "mem", conversations)
            expected = model_server.REPLY_TEXT
            async with toolcord_bot(emu, server, Path(folder), expected) as bot:
                idle = await idle_rss(bot)
                driver = Driver(emu, bot, {"bot": bot.pid})
                await driver.pipelined(warmup, len(warmup), min(counts.in_flight, len(warmup)))
                before = await quiet_rss(bot.pid)
                await driver.pipelined(channels, conversations, counts.in_flight)
                after = await quiet_rss(bot.pid)
    return {
        "rss_idle_mb": idle,
        "rss_per_1000_conversations_mb": round((after - before) * 1000 / conversations, 2),
        "rss_before_conversations_mb": round(before, 2),
        "rss_after_conversations_mb": round(after, 2),
        "conversations": conversations,
        "world_channels": len(warmup) + len(channels),
    }
