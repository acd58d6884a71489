"""S1 through the whole bot: ``kill -9`` mid-reply, restart, and count lost and doubled replies.

Each round starts the real bot in a child process (BotProcess), sends a few messages in
different channels, waits until the model is streaming each answer, and SIGKILLs the process at
a random moment of the replies. The next round's process is the restart: it tells the users
whose answers were interrupted. A last process settles the final round.

Per message the oracle is the emulator: the bot's messages that reply to it. A message is
*answered* by the complete answer or by the restart notice; partial streaming leftovers are
neither. Lost: neither. Duplicated: two complete answers or two notices.
"""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.testing.bot_process import BotProcess
from bot.testing.discord import Channel, DiscordEmulator, EmulatorTimeout
from bot.testing.openai import TextReply
from tests.reliability.rig import (
    USER_DEADLINE_S,
    Rig,
    ask,
    last_user_text,
    open_rig,
    replies_by_source,
    scratch_dir,
    token_in,
)

TOKEN = re.compile(r"K\d+-\d+")
RESTART_NOTICE = "interrupted by a restart"
FILLER = " ".join(f"word{n}" for n in range(60))
TRACEBACK = "Traceback (most recent call last)"


@dataclass(frozen=True)
class CrashPlan:
    """How many kills, and how many replies are in flight at each."""

    kills: int = 100
    messages_per_round: int = 3
    channels: int = 6
    seed: int = 9


@dataclass
class CrashState:
    """What was sent, and what the model was asked."""

    sources: dict[str, int] = field(default_factory=dict)
    asked: dict[str, asyncio.Event] = field(default_factory=dict)
    tracebacks: int = 0

    def expect(self, token: str) -> asyncio.Event:
        return self.asked.setdefault(token, asyncio.Event())


def expected_answer(token: str) -> str:
    """The complete answer to the message carrying ``token``."""
    return f"answer {token} {FILLER}"


def model_answers(state: CrashState, chooser: random.Random) -> Any:
    """A streamed answer of ~1 s after up to 0.3 s; marks the token as asked."""

    def answer(request: dict[str, Any]) -> TextReply:
        token = token_in(last_user_text(request), TOKEN) or "none"
        state.expect(token).set()
        latency = chooser.uniform(0.0, 0.3)
        return TextReply(expected_answer(token), latency=latency, chunk_size=40, chunk_delay=0.1)

    return answer


async def _start(rig: Rig, values: dict[str, Any], state: CrashState) -> BotProcess:
    process = await BotProcess.start(values)
    try:
        await process.wait_ready(60)
    except RuntimeError:
        process.kill()
        await process.wait()
        state.tracebacks += _tracebacks(process)
        raise
    return process


def _tracebacks(process: BotProcess) -> int:
    return sum(TRACEBACK in line for line in process.output)


async def _round(
    rig: Rig,
    process: BotProcess,
    state: CrashState,
    channels: list[Channel],
    number: int,
    chooser: random.Random,
) -> None:
    for slot in range(len(channels)):
        token = f"K{number}-{slot}"
        payload = await ask(rig.discord, channels[slot], "alice", f"crash {token}")
        state.sources[token] = int(payload["id"])
        await asyncio.wait_for(state.expect(token).wait(), USER_DEADLINE_S)
    await asyncio.sleep(chooser.uniform(0.0, 3.0))  # the kill lands at a random moment
    process.kill()
    await process.wait()
    state.tracebacks += _tracebacks(process)


def _classify(rig: Rig, channels: list[Channel], state: CrashState) -> dict[str, int]:
    replies = replies_by_source(rig.discord, channels)
    counts = {"lost": 0, "duplicated": 0, "answered": 0, "notified": 0, "notice_after_full": 0}
    for token, source in state.sources.items():
        messages = replies.get(source, [])
        complete = sum(m.content == expected_answer(token) for m in messages)
        notices = sum(RESTART_NOTICE in m.content for m in messages)
        counts["lost"] += complete + notices == 0
        counts["duplicated"] += complete > 1 or notices > 1
        counts["answered"] += complete == 1 and notices == 0
        counts["notified"] += notices == 1 and complete == 0
        counts["notice_after_full"] += complete == 1 and notices == 1
    return counts


def _settled(rig: Rig, channels: list[Channel], state: CrashState) -> bool:
    return _classify(rig, channels, state)["lost"] == 0


def _store_checks(database: Path) -> dict[str, Any]:
    with closing(sqlite3.connect(database)) as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        pending = db.execute("SELECT count(*) FROM exchanges WHERE status = 'pending'").fetchone()
    return {"integrity_ok": integrity == "ok", "pending_exchanges": int(pending[0])}


async def _settle(
    rig: Rig, values: dict[str, Any], state: CrashState, channels: list[Channel]
) -> None:
    last = await _start(rig, values, state)
    try:
        await rig.discord.wait_until(lambda: _settled(rig, channels, state), USER_DEADLINE_S)
    except EmulatorTimeout:
        pass  # counted as lost below
    finally:
        await last.stop()
        state.tracebacks += _tracebacks(last)


def _channels(emu: DiscordEmulator, count: int) -> list[Channel]:
    return [emu.add_channel(emu.guild, f"crash-{n}") for n in range(count)]


async def run_crash(plan: CrashPlan) -> dict[str, Any]:
    """Run the kill -9 rounds and return the figures (see the module docstring)."""
    chooser = random.Random(plan.seed)
    state = CrashState()
    with scratch_dir("crash") as scratch:
        async with open_rig(scratch) as rig:
            channels = _channels(rig.discord, plan.channels)
            rig.openai.chat.set_default(model_answers(state, chooser))
            values = rig.harness.settings_values(chat={"edit_interval_s": 0.2})
            for number in range(plan.kills):
                process = await _start(rig, values, state)
                in_flight = chooser.sample(channels, plan.messages_per_round)
                await _round(rig, process, state, in_flight, number, chooser)
            await _settle(rig, values, state, channels)
            counts = _classify(rig, channels, state)
            store = _store_checks(Path(rig.harness.settings().store_dsn()))
    return {
        "kills": plan.kills,
        "messages": len(state.sources),
        **counts,
        **store,
        "tracebacks_in_bot_output": state.tracebacks,
        "discord_400s": sum(r.status == 400 for r in rig.discord.failed_requests),
        "unhandled_exceptions": rig.watch.count + state.tracebacks,
    }


def crash_ok(figures: dict[str, Any]) -> bool:
    """The gate: nothing lost or doubled, the file intact, nothing left pending."""
    return (
        figures["lost"] == 0
        and figures["duplicated"] == 0
        and figures["integrity_ok"]
        and figures["pending_exchanges"] == 0
        and figures["unhandled_exceptions"] == 0
    )
