"""A chat turn with one tool round: the model calls the instant ``roll_dice`` tool, then answers.

Each turn is two model requests (the tool call, then the answer with the tool result), the tool
run through the dispatcher, the progress line and the final text in Discord, and the whole round
stored. Compared with the echo floor like ``chat.py``'s sequential phase. The bot's usage ledger
(a SQLite file of this phase's own) then says what the tool definitions cost per turn (issue 17).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path
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
        with tempfile.TemporaryDirectory(prefix="toolcord-bench-ledger-") as folder:
            ledger = Path(folder) / "ledger.db"
            async with toolcord_on(
                emu,
                "tool",
                model_server.TOOL_ANSWER,
                tools={"modules": TOOL_MODULES},
                store={"dsn": str(ledger)},
            ) as (bot, server):
                processes = {"bot": bot.pid, "emulator": os.getpid(), "model": server.pid}
                driver = Driver(emu, bot, processes)
                await driver.pipelined(warmup, counts.warmup, counts.in_flight)
                phase = await driver.sequential(channels, counts.tool_sequential)
            recorded = ledger_figures(ledger)
    return {"sequential": phase.summary(), **recorded}


def ledger_figures(path: Path) -> dict[str, Any]:
    """Per turn, from the bot's usage ledger: requests' tool-definition and prompt tokens."""
    with closing(sqlite3.connect(path)) as db:
        rows, tools, prompt = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(tool_schema_tokens), 0), "
            "COALESCE(SUM(prompt_tokens), 0) FROM usage"
        ).fetchone()
    if not rows:
        return {"ledger_turns": 0}
    return {
        "ledger_turns": rows,
        "tool_schema_tokens_per_turn": round(tools / rows, 1),
        "prompt_tokens_per_turn": round(prompt / rows, 1),
    }


def ratio(echo: dict[str, Any], tool: dict[str, Any]) -> dict[str, Any]:
    """``tool_seq_cost_ratio``: time per tool turn over time per echo round trip."""
    echo_rate, tool_rate = echo["sequential"]["per_s"], tool["sequential"]["per_s"]
    return {
        "tool_seq_cost_ratio": round(echo_rate / tool_rate, 3),
        "tool_sequential_per_s": tool_rate,
        "tool_turn_schema_tokens": tool.get("tool_schema_tokens_per_turn"),
        "tool_turn_prompt_tokens": tool.get("prompt_tokens_per_turn"),
    }
