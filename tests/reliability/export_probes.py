"""Export probes (issue 16, finding 2): /export and the model's window show only what they may.

Each probe opens a channel where a victim tells the bot a canary, then tries one way to read it:

* ``no_history``: a member denied Read Message History there runs /export;
* ``deleted``: the victim deletes the message on Discord (one at a time or a moderator's bulk
  purge), then a member who may read the history runs /export and mentions the bot (its window);
* ``control``: a member who may read the history exports it (the canary must be there, or the
  probe proves nothing).

A leak is a canary in an export or a model request where it must not be.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from bot.app import ToolcordBot
from bot.testing.discord import Channel, DiscordEmulator, User
from bot.testing.discord.permissions import Perm
from bot.testing.openai import TextReply
from cogs.admin import sync_commands
from tests.reliability.rig import (
    USER_DEADLINE_S,
    Rig,
    ask,
    open_rig,
    replying_to,
    scratch_dir,
)

KINDS = ("no_history", "deleted", "bulk_deleted", "control")


@dataclass(frozen=True)
class ExportPlan:
    """How many probes (spread evenly over the kinds)."""

    probes: int = 40


async def _answered(emu: DiscordEmulator, channel: Channel, user: User, text: str) -> Any:
    source = await ask(emu, channel, user, text)
    await emu.wait_for_message(channel, replying_to(int(source["id"])), timeout=USER_DEADLINE_S)
    return source


async def _export(emu: DiscordEmulator, channel: Channel, user: User) -> str:
    handle = await emu.inject_interaction("export", user=user, channel=channel)
    await handle.wait(
        lambda h: (
            bool(h.original and h.original.attachments)
            or "no conversation" in (h.final_content() or "")
        ),
        timeout=USER_DEADLINE_S,
    )
    if handle.original is not None and handle.original.attachments:
        return str(handle.original.attachments[0].data.decode())
    return handle.final_content() or ""


async def _redacted(bot: ToolcordBot, source_id: int, canary: str) -> None:
    store = bot.services.store

    async def check() -> bool:
        conversation = await store.conversation_for_message(source_id)
        if conversation is None:
            return False
        document = await store.export_conversation(conversation.key)
        return canary not in json.dumps(document)

    async with asyncio.timeout(USER_DEADLINE_S):
        while not await check():  # noqa: ASYNC110 - the store signals nothing
            await asyncio.sleep(0.02)


async def _probe(bot: ToolcordBot, rig: Rig, number: int, kind: str) -> tuple[bool, bool]:
    """One probe: (leaked, canary seen by the control)."""
    emu = rig.discord
    victim, prober = emu.user("alice"), emu.user("bob")
    channel = emu.add_channel(emu.guild, f"probe-{number}")
    async with asyncio.timeout(10):
        while bot.get_channel(channel.id) is None:  # noqa: ASYNC110 - GUILD cache
            await asyncio.sleep(0.02)
    canary = f"CANARY-X-{number}"
    source = await _answered(emu, channel, victim, f"my PIN is {canary}")
    if kind == "no_history":
        emu.set_overwrite(channel, prober, deny=int(Perm.READ_MESSAGE_HISTORY))
        return canary in await _export(emu, channel, prober), False
    if kind == "control":
        return False, canary in await _export(emu, channel, prober)
    if kind == "deleted":
        emu.delete_message(source)
    else:
        emu.bulk_delete(channel, [source])
    await _redacted(bot, int(source["id"]), canary)
    exported = await _export(emu, channel, prober)
    await _answered(emu, channel, prober, "what did they say?")
    window = json.dumps(rig.openai.chat.requests[-1]["messages"])
    return canary in exported or canary in window, False


async def run_export_probes(plan: ExportPlan) -> dict[str, Any]:
    """Run the probes; returns the figures."""
    with scratch_dir("export") as workdir:
        async with open_rig(workdir) as rig:
            rig.openai.chat.set_default(TextReply("noted"))
            leaks: dict[str, int] = dict.fromkeys(KINDS, 0)
            done: dict[str, int] = dict.fromkeys(KINDS, 0)
            controls_seen = 0
            async with rig.harness.run() as bot:
                await sync_commands(bot)
                for number in range(plan.probes):
                    kind = KINDS[number % len(KINDS)]
                    leaked, seen = await _probe(bot, rig, number, kind)
                    leaks[kind] += int(leaked)
                    done[kind] += 1
                    controls_seen += int(seen)
            return {
                "probes": plan.probes,
                "by_kind": done,
                "leaks": sum(leaks.values()),
                "leaks_by_kind": leaks,
                "controls": done["control"],
                "controls_seen": controls_seen,
                "unhandled_exceptions": rig.watch.count,
                "errors": rig.watch.samples(),
            }


def export_ok(figures: dict[str, Any]) -> bool:
    """The gate: no leak, every control saw its canary, no unhandled exception."""
    return (
        figures["leaks"] == 0
        and figures["controls_seen"] == figures["controls"] > 0
        and figures["unhandled_exceptions"] == 0
    )
