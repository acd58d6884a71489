"""500 conversations answered at once, with a model that takes 1 s to answer each.

Each conversation has its own channel, so nothing orders them but the bot's own capacity: the
wall time above 1 s is what the bot (and discord.py) needs to take in 500 messages, send 500 model
requests and deliver 500 answers. toolcord runs with its production settings.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from bot.testing.discord import DiscordEmulator

from . import model_server
from .bots import model, toolcord_bot
from .counts import Counts
from .driver import Driver, add_channels

MODEL_LATENCY_S = 1.0
WARMUP_CONVERSATIONS = 8


async def measure(counts: Counts) -> dict[str, Any]:
    """Time one burst of ``counts.concurrency`` conversations."""
    with tempfile.TemporaryDirectory(prefix="toolcord-bench-") as folder:
        async with DiscordEmulator() as emu, model("text", MODEL_LATENCY_S) as server:
            warmup = add_channels(emu, "warm", WARMUP_CONVERSATIONS)
            channels = add_channels(emu, "burst", counts.concurrency)
            expected = model_server.REPLY_TEXT
            async with toolcord_bot(emu, server, Path(folder), expected) as bot:
                processes = {"bot": bot.pid, "emulator": os.getpid(), "model": server.pid}
                driver = Driver(emu, bot, processes)
                await driver.burst(warmup)
                phase = await driver.burst(channels)
    figures = phase.summary()
    return {
        "concurrency_500_wall_s": round(phase.elapsed_s, 3),
        "conversations": len(channels),
        "model_latency_s": MODEL_LATENCY_S,
        "burst": figures,
    }
