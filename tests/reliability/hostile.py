"""Hostile inputs through the whole bot: nothing Discord would reject, nobody pinged.

Every text of the corpus is sent by a user (``H<n> <text>``, mentioning the bot) and the fake model
answers with the raw text ``n``, so the same text crosses the input path (routing, store, window)
and the output path (render, split, defang, delivery). The Discord emulator validates every write
as Discord does (2,000 code points, embeds, empty messages: 400 50035/50006), so its 400s are the
rejections; the stored messages say whether anyone was pinged.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

from bot.testing.discord import Channel, DiscordEmulator, EmulatorTimeout, RecordedRequest
from bot.testing.openai import TextReply
from tests.reliability.hostile_corpus import generated, hand_corpus
from tests.reliability.rig import (
    USER_DEADLINE_S,
    Rig,
    ask,
    bot_messages,
    last_user_text,
    open_rig,
    replying_to,
    scratch_dir,
    settle,
)

TOKEN = re.compile(r"\bH(\d+)\b")
WRITES = r"/channels/\d+/messages(/\d+)?"
MAX_CONTENT = 2000


@dataclass(frozen=True)
class HostilePlan:
    """How many generated texts join the hand corpus, over how many channels."""

    generated: int = 420
    channels: int = 10
    members: int = 20
    seed: int = 7


def model_echoes(texts: list[str]) -> Any:
    """The fake model answers message ``H<n>`` with the raw text ``n``."""

    def answer(request: dict[str, Any]) -> TextReply:
        found = TOKEN.search(last_user_text(request))
        text = texts[int(found.group(1))] if found else "no token"
        return TextReply(text, chunk_size=500)

    return answer


async def _send_all(emu: DiscordEmulator, channel: Channel, items: list[tuple[int, str]]) -> int:
    """Send each text and wait for its reply; returns how many got none within 30 s."""
    unanswered = 0
    for index, text in items:
        payload = await ask(emu, channel, "alice", f"H{index} {text}")
        source = int(payload["id"])
        try:
            await emu.wait_for_message(channel, replying_to(source), timeout=USER_DEADLINE_S)
        except EmulatorTimeout:
            unanswered += 1
    return unanswered


def _payload(record: RecordedRequest) -> dict[str, Any]:
    if isinstance(record.json, dict):
        return record.json
    for part in record.parts:
        if part.name == "payload_json":
            loaded = json.loads(part.data)
            return loaded if isinstance(loaded, dict) else {}
    return {}


def _allows_mentions(payload: dict[str, Any]) -> bool:
    allowed = payload.get("allowed_mentions")
    if "content" not in payload:
        return False
    if not isinstance(allowed, dict):
        return True
    return bool(allowed.get("parse") or allowed.get("users") or allowed.get("roles"))


def tally(rig: Rig, channels: list[Channel]) -> dict[str, int]:
    """Rejections, pings and oversize messages, from the emulator's records."""
    writes = [
        r for method in ("POST", "PATCH") for r in rig.discord.requests_matching(method, WRITES)
    ]
    messages = [m for channel in channels for m in bot_messages(rig.discord, channel)]
    pinged = [m for m in messages if m.mention_everyone or m.mention_ids or m.mention_role_ids]
    return {
        "bot_writes": len(writes),
        "discord_rejections": sum(r.status == 400 for r in writes),
        "writes_allowing_mentions": sum(_allows_mentions(_payload(r)) for r in writes),
        "mass_pings": len(pinged),
        "messages_over_2000": sum(len(m.content) > MAX_CONTENT for m in messages),
    }


def _world(emu: DiscordEmulator, plan: HostilePlan) -> tuple[list[Channel], list[int]]:
    members = [emu.add_user(f"member-{n}") for n in range(plan.members)]
    for member in members:
        emu.add_member(emu.guild, member)
    channels = [emu.add_channel(emu.guild, f"hostile-{n}") for n in range(plan.channels)]
    return channels, [m.id for m in members]


async def run_hostile(plan: HostilePlan) -> dict[str, Any]:
    """Send the corpus and return the figures (see the module docstring)."""
    with scratch_dir("hostile") as scratch:
        async with open_rig(scratch) as rig:
            channels, member_ids = _world(rig.discord, plan)
            guild_id, bot_id = rig.discord.guild.id, rig.discord.bot_user.id
            hand = hand_corpus(member_ids, guild_id, bot_id)
            texts = hand + generated(plan.generated, member_ids, guild_id, plan.seed)
            rig.openai.chat.set_default(model_echoes(texts))
            lanes: list[list[tuple[int, str]]] = [[] for _ in channels]
            for index, text in enumerate(texts):
                lanes[index % len(channels)].append((index, text))
            # Image links in these texts would be fetched from their (public) hosts, which no test
            # may reach; the link reader's own hostile cases are in tests/e2e/test_inputs_e2e.py.
            async with rig.harness.run(inputs={"image_links": False}) as bot:
                missing = await asyncio.gather(
                    *(
                        _send_all(rig.discord, c, lane)
                        for c, lane in zip(channels, lanes, strict=True)
                    )
                )
                await settle(bot, len(texts) - sum(missing))
            return {
                "inputs": len(texts),
                "hand_made": len(hand),
                "generated": len(texts) - len(hand),
                "unanswered": sum(missing),
                **tally(rig, channels),
                "unhandled_exceptions": rig.watch.count,
                "errors": rig.watch.samples(),
            }


def hostile_ok(figures: dict[str, Any]) -> bool:
    """The gate: everything answered, nothing rejected, nobody pinged, nothing unhandled."""
    zeros = (
        "unanswered",
        "discord_rejections",
        "writes_allowing_mentions",
        "mass_pings",
        "messages_over_2000",
        "unhandled_exceptions",
    )
    return all(figures[key] == 0 for key in zeros)
