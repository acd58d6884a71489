"""Profile toolcord's chat turn: ``python -m tests.bench.profile_turn [--tool] [--pipelined]``.

Runs the bot in its own process under pyinstrument (``tests.bench.profiling``), warms it up, then
profiles ``--turns`` turns only. Writes ``<out>.txt``, ``<out>.html`` and ``<out>.pyisession``
(default ``<tmp>/toolcord-turn-profile``) and prints where the bot's main thread spent its time.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from bot.testing.discord import DiscordEmulator

from . import model_server
from .bots import model, toolcord_bot
from .chat import UNPACED
from .driver import Driver, add_channels, conversations_for
from .profiling import WRITTEN_MARKER

TURNS_PER_CONVERSATION = 16
WARMUP = 64
IN_FLIGHT = 32
TOP = 45
WRITE_TIMEOUT_S = 120.0


async def profile(turns: int, tool: bool, pipelined: bool, out: Path) -> dict[str, Any]:
    """Run the profiled phase; returns its figures."""
    mode, expected = ("tool", model_server.TOOL_ANSWER) if tool else ("text", "")
    expected = expected or model_server.REPLY_TEXT
    sections: dict[str, Any] = {"chat": UNPACED}
    if tool:
        sections["tools"] = {"modules": ["tools.weather", "tools.search", "examples.dice"]}
    with tempfile.TemporaryDirectory(prefix="toolcord-bench-") as folder:
        async with DiscordEmulator() as emu, model(mode) as server:
            warm = add_channels(emu, "warm", IN_FLIGHT)
            channels = add_channels(
                emu, "prof", conversations_for(turns, TURNS_PER_CONVERSATION, IN_FLIGHT)
            )
            async with toolcord_bot(
                emu, server, Path(folder), expected, profile=out, **sections
            ) as bot:
                driver = Driver(emu, bot, {"bot": bot.pid, "emulator": os.getpid()})
                await driver.pipelined(warm, WARMUP, IN_FLIGHT)
                bot.child.profile(True)
                if pipelined:
                    phase = await driver.pipelined(channels, turns, IN_FLIGHT)
                else:
                    phase = await driver.sequential(channels, turns)
                written = asyncio.Event()
                bot.child.listener = lambda line: written.set() if WRITTEN_MARKER in line else None
                bot.child.profile(False)
                await asyncio.wait_for(written.wait(), WRITE_TIMEOUT_S)
    return phase.summary()


def flat_summary(session_path: Path, top: int = TOP) -> str:
    """Inclusive seconds per function (recursion counted once) of the loop's callbacks."""
    from pyinstrument.session import Session

    session = Session.load(str(session_path))
    inclusive: collections.Counter[str] = collections.Counter()

    def walk(frame: Any, seen: frozenset[str]) -> None:
        key = f"{frame.function} {frame.file_path_short or ''}:{frame.line_no}"
        if key not in seen:
            inclusive[key] += frame.time
        for child in frame.children:
            walk(child, seen | {key})

    root = session.root_frame()
    if root is not None:
        walk(root, frozenset())
    lines = [f"profiled {session.duration:.2f} s wall, {session.cpu_time:.2f} s CPU"]
    lines += [f"{seconds:8.3f}  {name}" for name, seconds in inclusive.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--tool", action="store_true", help="profile a turn with one tool round")
    parser.add_argument("--pipelined", action="store_true", help=f"{IN_FLIGHT} in flight")
    parser.add_argument(
        "--out", type=Path, default=Path(tempfile.gettempdir()) / "toolcord-turn-profile"
    )
    options = parser.parse_args()
    figures = asyncio.run(profile(options.turns, options.tool, options.pipelined, options.out))
    print(json.dumps(figures))
    print(flat_summary(options.out.with_suffix(".pyisession")))
    print(f"full profile: {options.out.with_suffix('.html')}")


if __name__ == "__main__":
    main()
