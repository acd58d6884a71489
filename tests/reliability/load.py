"""L1: many concurrent conversations, several turns each; every message answered exactly once.

Conversations live in separate channels of separate guilds (20 guilds x 10 channels for 200).
Each conversation is a user who asks, waits for the answer, and asks again. The fake model
answers ``answer <token>`` after a random latency. Afterwards the emulator's state is the
oracle: per message, the bot's replies that reference it and the model calls that carried it.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.testing.discord import Channel, DiscordEmulator, EmulatorTimeout, User
from bot.testing.openai import TextReply
from tests.reliability.rig import (
    Rig,
    ask,
    content_is,
    last_user_text,
    open_rig,
    replies_by_source,
    scratch_dir,
    token_in,
    wait_for_channels,
)

TOKEN = re.compile(r"L\d+-\d+")
CHANNELS_PER_GUILD = 10
TURN_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class LoadPlan:
    """How big the load is."""

    conversations: int = 200
    turns: int = 10
    min_latency_s: float = 0.5
    max_latency_s: float = 3.0
    seed: int = 10


@dataclass
class Conversation:
    """One user in one channel, and the messages they sent."""

    index: int
    channel: Channel
    user: User
    sources: dict[str, int] = field(default_factory=dict)
    timeouts: int = 0


def build_world(emu: DiscordEmulator, count: int) -> list[Conversation]:
    """Guilds of up to 10 channels, one user per guild (before the bot starts)."""
    conversations: list[Conversation] = []
    guilds = (count + CHANNELS_PER_GUILD - 1) // CHANNELS_PER_GUILD
    for number in range(guilds):
        user = emu.add_user(f"load-user-{number}")
        size = min(CHANNELS_PER_GUILD, count - number * CHANNELS_PER_GUILD)
        names = [f"room-{n}" for n in range(size)]
        guild = emu.add_guild(f"Load Guild {number}", names, members=[user])
        for channel in guild.text_channels:
            conversations.append(Conversation(len(conversations), channel, user))
    return conversations


def model_answers(plan: LoadPlan) -> Any:
    """The fake model: ``answer <token>`` after a random latency (seeded)."""
    chooser = random.Random(plan.seed)

    def answer(request: dict[str, Any]) -> TextReply:
        token = token_in(last_user_text(request), TOKEN) or "none"
        latency = chooser.uniform(plan.min_latency_s, plan.max_latency_s)
        return TextReply(f"answer {token}", latency=latency)

    return answer


async def _talk(emu: DiscordEmulator, conversation: Conversation, turns: int) -> None:
    for turn in range(turns):
        token = f"L{conversation.index}-{turn}"
        mark = emu.mark()
        payload = await ask(emu, conversation.channel, conversation.user, f"load {token}")
        conversation.sources[token] = int(payload["id"])
        expected = f"answer {token}"
        try:
            await emu.wait_for_message(
                conversation.channel,
                content_is(expected),
                after=mark,
                timeout=TURN_TIMEOUT_S,
            )
        except EmulatorTimeout:
            conversation.timeouts += 1


def tally(rig: Rig, conversations: list[Conversation]) -> dict[str, int]:
    """Lost and duplicated replies and model calls, from the emulators' records."""
    replies = replies_by_source(rig.discord, [c.channel for c in conversations])
    calls: dict[str, int] = {}
    for request in rig.openai.chat.requests:
        token = token_in(last_user_text(request), TOKEN)
        if token:
            calls[token] = calls.get(token, 0) + 1
    lost = duplicated = wrong = extra_calls = 0
    for conversation in conversations:
        for token, source in conversation.sources.items():
            answers = replies.get(source, [])
            right = [m for m in answers if m.content == f"answer {token}"]
            lost += not right
            duplicated += max(0, len(answers) - 1)
            wrong += len(answers) - len(right)
            extra_calls += max(0, calls.get(token, 0) - 1)
    return {
        "lost": lost,
        "duplicated": duplicated,
        "wrong": wrong,
        "model_calls_extra": extra_calls,
    }


async def run_load(plan: LoadPlan, workdir: Path | None = None) -> dict[str, Any]:
    """Run L1 and return its figures (see the module docstring)."""
    with scratch_dir("load") as scratch:
        async with open_rig(workdir or scratch) as rig:
            conversations = build_world(rig.discord, plan.conversations)
            rig.openai.chat.set_default(model_answers(plan))
            async with rig.harness.run() as bot:
                await wait_for_channels(bot, [c.channel.id for c in conversations], 30)
                started = time.monotonic()
                await asyncio.gather(*(_talk(rig.discord, c, plan.turns) for c in conversations))
                elapsed = time.monotonic() - started
            counts = tally(rig, conversations)
            sent = sum(len(c.sources) for c in conversations)
            rejected = [r for r in rig.discord.failed_requests if r.status == 400]
            return {
                "conversations": plan.conversations,
                "turns_per_conversation": plan.turns,
                "messages": sent,
                "answered": sent - counts["lost"],
                **counts,
                "discord_400s": len(rejected),
                "unhandled_exceptions": rig.watch.count,
                "errors": rig.watch.samples(),
                "elapsed_s": round(elapsed, 1),
                "turns_per_s": round(sent / elapsed, 1) if elapsed else None,
            }


def load_ok(figures: dict[str, Any]) -> bool:
    """The gate: nothing lost, nothing duplicated, nothing unhandled."""
    zeros = ("lost", "duplicated", "wrong", "model_calls_extra", "unhandled_exceptions")
    return all(figures[key] == 0 for key in zeros) and figures["messages"] > 0
