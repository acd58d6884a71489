"""The load: users mention the bot in channels of the Discord emulator; replies are timed there.

A round trip starts when the emulator injects the user's message (MESSAGE_CREATE) and ends when
the bot's reply with the expected text is stored by the emulator (created, or edited into that
text). Both bots are driven by the same code; only the expected reply text differs.
"""

from __future__ import annotations

import asyncio
import collections
import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.testing.discord import DiscordEmulator
from bot.testing.discord.models import Channel, StoredMessage

from .bots import BotUnderTest
from .procstat import CpuMeter

AUTHOR = "alice"
REPLY_TIMEOUT_S = 120.0


def add_channels(emu: DiscordEmulator, prefix: str, count: int) -> list[Channel]:
    """Text channels ``prefix-0`` ... in the default guild (create them before the bot starts)."""
    return [emu.add_channel(emu.guild, f"{prefix}-{number}") for number in range(count)]


def conversations_for(turns: int, turns_per_conversation: int, at_least: int = 1) -> int:
    """How many conversations (channels) give ``turns`` about ``turns_per_conversation`` each."""
    return max(at_least, math.ceil(turns / turns_per_conversation))


def visible_at(message: StoredMessage) -> float:
    """When the message got its current text (its last edit, else its creation)."""
    return message.edits[-1].at if message.edits else message.created_at


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class Phase:
    """One measured phase: round-trip latencies, wall time and CPU per process."""

    latencies_s: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    cpu_s: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return len(self.latencies_s) / self.elapsed_s if self.elapsed_s else 0.0

    def summary(self) -> dict[str, Any]:
        """Rounded figures for the report."""
        turns = len(self.latencies_s)
        figures: dict[str, Any] = {
            "turns": turns,
            "elapsed_s": round(self.elapsed_s, 3),
            "per_s": round(self.rate, 1),
            "p50_ms": round(statistics.median(self.latencies_s) * 1000, 3),
            "p90_ms": round(percentile(self.latencies_s, 0.9) * 1000, 3),
            "p99_ms": round(percentile(self.latencies_s, 0.99) * 1000, 3),
        }
        for name, seconds in self.cpu_s.items():
            figures[f"cpu_ms_per_turn_{name}"] = round(seconds * 1000 / max(turns, 1), 3)
            figures[f"cpu_core_share_{name}"] = round(seconds / self.elapsed_s, 3)
        return figures


class Driver:
    """Sends messages that mention the bot and times its answers.

    Args:
        emu: the Discord emulator (in this process).
        bot: the bot under test.
        processes: name -> pid of every process whose CPU the phases should report.
    """

    def __init__(self, emu: DiscordEmulator, bot: BotUnderTest, processes: dict[str, int]) -> None:
        self._emu = emu
        self._bot = bot
        self._processes = processes
        self._counter = 0

    async def turn(self, channel: Channel) -> float:
        """One round trip in ``channel``; returns its latency in seconds."""
        started, answered = await self.round_trip(channel)
        return answered - started

    async def round_trip(self, channel: Channel) -> tuple[float, float]:
        """One round trip in ``channel``; returns when it started and when the answer showed."""
        self._counter += 1
        emu = self._emu
        content = f"<@{emu.bot_user.id}> hello number {self._counter}"
        expected = self._bot.expects(content)
        started = time.monotonic()
        source = await emu.inject_message(channel, AUTHOR, content, mentions=[emu.bot_user])
        reply = await emu.wait_for_message(
            channel, lambda m: m.content == expected, after=source, timeout=REPLY_TIMEOUT_S
        )
        return started, visible_at(reply)

    async def sequential(self, channels: Sequence[Channel], count: int) -> Phase:
        """``count`` round trips one at a time, cycling through ``channels``."""
        meter, phase = self._meter(), Phase()
        started = time.monotonic()
        for number in range(count):
            phase.latencies_s.append(await self.turn(channels[number % len(channels)]))
        phase.elapsed_s = time.monotonic() - started
        phase.cpu_s = meter.stop()
        return phase

    async def pipelined(self, channels: Sequence[Channel], count: int, in_flight: int) -> Phase:
        """``count`` round trips by ``in_flight`` closed-loop senders sharing ``channels``.

        A sender takes the channel that waited longest, so one conversation never has two
        messages in flight and every conversation gets about the same number of turns.
        """
        if len(channels) < in_flight:
            raise ValueError(f"{in_flight} in flight need at least as many channels")
        meter, phase = self._meter(), Phase()
        idle = collections.deque(channels)
        remaining = count

        async def sender() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                channel = idle.popleft()
                phase.latencies_s.append(await self.turn(channel))
                idle.append(channel)

        started = time.monotonic()
        async with asyncio.TaskGroup() as group:
            for _ in range(in_flight):
                group.create_task(sender())
        phase.elapsed_s = time.monotonic() - started
        phase.cpu_s = meter.stop()
        return phase

    async def burst(self, channels: Sequence[Channel]) -> Phase:
        """One message in every channel at once; ``elapsed_s`` ends with the last answer."""
        meter, phase = self._meter(), Phase()
        started = time.monotonic()
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self.round_trip(channel)) for channel in channels]
        phase.elapsed_s = max(task.result()[1] for task in tasks) - started
        phase.latencies_s = [task.result()[1] - task.result()[0] for task in tasks]
        phase.cpu_s = meter.stop()
        return phase

    def _meter(self) -> CpuMeter:
        meter = CpuMeter(self._processes)
        meter.start()
        return meter
