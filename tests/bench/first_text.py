"""From the model's first streamed token to the first text visible in Discord.

The model server streams an answer in chunks ``CHUNK_DELAY_S`` apart and prints, per request, the
earliest moment its first content chunk can leave; the Discord emulator records when the first
message POST with text arrives. Both use ``time.monotonic`` (one clock for all processes on
Linux). Anything the emulator itself spends after that moment is charged to the bot, so the figure
is an upper bound. toolcord runs with its production settings (the pacer lets the first write of a
reply through at once).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bot.testing.discord import DiscordEmulator

from . import model_server
from .bots import model, toolcord_bot
from .counts import Counts
from .driver import AUTHOR, REPLY_TIMEOUT_S, add_channels, percentile

FIRST_TEXT_TIMEOUT_S = 30.0


def _has_text(record: Any) -> bool:
    return bool((record.json or {}).get("content"))


async def measure(counts: Counts) -> dict[str, Any]:
    """``first_text_ms`` (median) over ``counts.first_text_samples`` streamed answers."""
    samples: list[float] = []
    due: asyncio.Queue[float] = asyncio.Queue()
    with tempfile.TemporaryDirectory(prefix="toolcord-bench-") as folder:
        async with DiscordEmulator() as emu, model("stream") as server:
            server.child.listener = lambda line: _note_due(line, due)
            channels = add_channels(emu, "stream", counts.first_text_samples + 1)
            expected = model_server.STREAM_TEXT
            async with toolcord_bot(emu, server, Path(folder), expected):
                for index, channel in enumerate(channels):
                    mark = emu.mark()
                    content = f"<@{emu.bot_user.id}> tell me a story {index}"
                    await emu.inject_message(channel, AUTHOR, content, mentions=[emu.bot_user])
                    first = await emu.wait_request(
                        "POST",
                        rf"/channels/{channel.id}/messages",
                        _has_text,
                        after=mark,
                        timeout=FIRST_TEXT_TIMEOUT_S,
                    )
                    chunk_due = await asyncio.wait_for(due.get(), FIRST_TEXT_TIMEOUT_S)
                    await emu.wait_for_message(
                        channel, lambda m: m.content == expected, timeout=REPLY_TIMEOUT_S
                    )
                    if index:  # the first sample opens connections; it is a warm-up
                        samples.append((first.received_at - chunk_due) * 1000)
    return {
        "first_text_ms": round(statistics.median(samples), 2),
        "first_text_p90_ms": round(percentile(samples, 0.9), 2),
        "first_text_max_ms": round(max(samples), 2),
        "samples": len(samples),
    }


def _note_due(line: str, due: asyncio.Queue[float]) -> None:
    if line.startswith(model_server.FIRST_CHUNK_MARKER):
        due.put_nowait(float(line.split()[1]))
