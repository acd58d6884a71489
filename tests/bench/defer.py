"""Benchmark: 100 slash commands within one second, and how fast each one is deferred.

The real bot runs against the Discord and OpenAI emulators in this process. The emulator
dispatches ``/chat`` interactions evenly over one second (in ten channels, from three members);
each handle's ``ack_latency`` is the time from dispatching INTERACTION_CREATE to receiving the
bot's first callback (the defer). Every answer must then arrive as well. Discord's limit is 3 s;
the goal is p99 under 1 s. Run: ``python -m tests.bench.defer [--count 100] [--window 1.0]``.
Prints and returns ``{"defer_p50_ms", "defer_p99_ms", "defer_max_ms", "answered", ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.app import ToolcordBot
from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator
from bot.testing.openai.replies import TextReply
from cogs.admin import sync_commands

CHANNELS = 10
USERS = ("owner", "alice", "bob")
COGS = ("cogs.commands", "cogs.admin")


async def _prepare(bot: ToolcordBot) -> None:
    """Load the command cogs and sync them (the composition root built their services)."""
    for extension in COGS:
        if extension not in bot.extensions:
            await bot.load_extension(extension)
    await sync_commands(bot)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def measure(count: int = 100, window_s: float = 1.0) -> dict[str, Any]:
    """Send ``count`` /chat commands within ``window_s`` seconds; return the defer latencies."""
    async with DiscordEmulator() as discord_emu, OpenAIEmulator() as openai_emu:
        channels = [
            discord_emu.add_channel(discord_emu.guild, f"bench-{n}") for n in range(CHANNELS)
        ]
        openai_emu.chat.set_default(TextReply("A short answer from the model.", latency=0.05))
        with tempfile.TemporaryDirectory() as folder:
            harness = BotHarness(discord_emu, openai_emu, data_dir=Path(folder))
            async with harness.run() as bot:
                await _prepare(bot)
                handles, sent_in = await _send(discord_emu, channels, count, window_s)
                await asyncio.wait_for(_all_answered(handles), 120)
    latencies = [h.ack_latency * 1000 for h in handles if h.ack_latency is not None]
    return {
        "commands": count,
        "sent_within_s": round(sent_in, 3),
        "deferred": sum(1 for h in handles if h.deferred),
        "answered": sum(1 for h in handles if _answered(h)),
        "late_10062": sum(1 for h in handles if 10062 in h.rejected),
        "defer_p50_ms": round(statistics.median(latencies), 2),
        "defer_p99_ms": round(_percentile(latencies, 0.99), 2),
        "defer_max_ms": round(max(latencies), 2),
    }


async def _send(
    emu: DiscordEmulator, channels: list[Any], count: int, window_s: float
) -> tuple[list[Any], float]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    handles = []
    for number in range(count):
        due = start + window_s * number / count
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        handles.append(
            await emu.inject_interaction(
                "chat",
                user=USERS[number % len(USERS)],
                channel=channels[number % len(channels)],
                options={"prompt": f"question {number}"},
            )
        )
    return handles, loop.time() - start


def _answered(handle: Any) -> bool:
    return handle.final_content() == "A short answer from the model."


async def _all_answered(handles: list[Any]) -> None:
    for handle in handles:
        await handle.wait(_answered, timeout=120)


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--window", type=float, default=1.0)
    args = parser.parse_args()
    started = time.perf_counter()
    result = asyncio.run(measure(args.count, args.window))
    result["wall_s"] = round(time.perf_counter() - started, 2)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
