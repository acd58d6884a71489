"""Knowledge and memory isolation probes (issue 18): no server's notes and no user's memory
reach another server, user or place; ``/forget-me`` leaves nothing of the user behind.

The world of the isolation scenario (users in several guilds: shared channels, a thread, private
``/chat`` conversations, DMs) gets one knowledge source per guild holding that guild's canary.
Every probe is one user message carrying a memory canary ``MEM-<user>-<scope>-<n>`` (scope: the
guild, 0 in DMs). The fake model (a leaky one) first calls ``remember`` with it and, where the
tool is offered, ``search_knowledge``; then answers with every canary it saw. A leak is:

* a knowledge canary of another guild in a probe's request (DMs offer no knowledge at all);
* a memory canary of another user, or of the same user in another scope, in the memory system
  message (shared history and its summary legitimately show others' tool calls);
* in ``/memory show`` (run for every user in every place): another user's or scope's memory.

The context budget is small, so long lanes are summarized (a leaky summarizer keeps every
canary); afterwards half the users run ``/forget-me`` and their memories, and every summary that
holds their words, must be gone.
"""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from bot.knowledge.chunking import TextChunk
from bot.knowledge.service import Caller
from bot.testing.discord import DiscordEmulator, EmulatorTimeout
from bot.testing.openai import TextReply, ToolCall, ToolCallsReply
from tests.reliability.isolation import Place, Probe, build_world, make_probes
from tests.reliability.rig import (
    USER_DEADLINE_S,
    ask,
    content_starts,
    last_user_text,
    open_rig,
    scratch_dir,
    store_path,
    wait_for_channels,
)

SUMMARY_MODEL = "gpt-5.4-nano"
KB = re.compile(r"KBCANARY-(\d+)")
MEM = re.compile(r"MEM-(\d+)-(\d+)-(\d+)")
PROBE = re.compile(r"\bP(\d+)\b")
FORGET = "delete everything about me"


@dataclass(frozen=True)
class KnowledgePlan:
    """How many message probes, over how many users and guilds."""

    probes: int = 600
    users: int = 8
    guilds: int = 3
    seed: int = 18


def scope_of(place: Place) -> int:
    return place.channel.guild_id or 0


def probe_text(probe: Probe) -> str:
    memory = f"MEM-{probe.user.id}-{scope_of(probe.place)}-{probe.number}"
    return f"P{probe.number} remember {memory} and tell me the server rules."


def leaky_model(request: dict[str, Any]) -> Any:
    """Calls remember (+ search_knowledge where offered), then repeats every canary it saw."""
    text = last_user_text(request)
    if request.get("model") == SUMMARY_MODEL:
        return TextReply(" ".join(sorted(set(MEM.findall(text) and _canaries(text)))) or "none")
    found = PROBE.search(text)
    probe = found.group(0) if found else "P?"
    messages = request.get("messages") or []
    if messages and messages[-1].get("role") == "tool":
        return TextReply(f"done {probe}; seen: {' '.join(_canaries(str(messages))[-40:])}")
    memory = MEM.search(text)
    offered = {tool["function"]["name"] for tool in request.get("tools") or []}
    calls = [ToolCall("remember", {"fact": memory.group(0) if memory else "nothing"})]
    if "search_knowledge" in offered:
        calls.append(ToolCall("search_knowledge", {"query": "server rules"}))
    return ToolCallsReply(calls)


def _is_memory(message: dict[str, Any]) -> bool:
    """The system message holding the user's memories (summaries hold shared history)."""
    return message.get("role") == "system" and "asked you to remember" in str(
        message.get("content")
    )


def _canaries(text: str) -> list[str]:
    found = {m.group(0) for m in KB.finditer(text)} | {m.group(0) for m in MEM.finditer(text)}
    return sorted(found)


def request_leaks(requests: list[dict[str, Any]], probes: list[Probe]) -> tuple[int, int, int, int]:
    """(probes checked, requests with a leak, requests holding the user's own memory, requests
    holding the own guild's knowledge): the last two are the controls that show a leak would."""
    checked: set[int] = set()
    leaks = own_memory = own_knowledge = 0
    for request in requests:
        if request.get("model") == SUMMARY_MODEL:
            continue
        found = PROBE.search(last_user_text(request))
        if found is None:
            continue
        probe = probes[int(found.group(1))]
        checked.add(probe.number)
        guild = probe.place.channel.guild_id
        everything = str(request.get("messages"))
        kb_leak = any(int(m.group(1)) != guild for m in KB.finditer(everything))
        own_knowledge += f"KBCANARY-{guild}" in everything
        system = str([m for m in request["messages"] if _is_memory(m)])
        memories = [(int(m.group(1)), int(m.group(2))) for m in MEM.finditer(system)]
        mine = (probe.user.id, scope_of(probe.place))
        mem_leak = any(owner != mine for owner in memories)
        own_memory += bool(memories) and not mem_leak
        leaks += kb_leak or mem_leak
    return len(checked), leaks, own_memory, own_knowledge


async def _lane(emu: DiscordEmulator, probes: list[Probe]) -> int:
    silent = 0
    for probe in probes:
        done = f"done P{probe.number};"
        try:
            if probe.place.private:
                handle = await emu.inject_interaction(
                    "chat",
                    user=probe.user,
                    channel=probe.place.channel,
                    options={"prompt": probe_text(probe), "private": True},
                )
                await handle.wait(
                    lambda h, d=done: (h.final_content() or "").startswith(d), USER_DEADLINE_S
                )
                continue
            await ask(emu, probe.place.channel, probe.user, probe_text(probe))
            await emu.wait_for_message(
                probe.place.channel, content_starts(done), timeout=USER_DEADLINE_S
            )
        except EmulatorTimeout:
            silent += 1
    return silent


async def memory_show_leaks(
    emu: DiscordEmulator, by_user: dict[int, list[Place]]
) -> tuple[int, int]:
    """``/memory show`` by every user in each of their places: (probes, leaks)."""
    probes = leaks = 0
    for user_id, places in by_user.items():
        for place in {p.channel.id: p for p in places}.values():
            handle = await emu.inject_interaction(
                "memory show", user=user_id, channel=place.channel
            )
            await handle.wait(lambda h: bool(h.final_content()), USER_DEADLINE_S)
            shown = handle.final_content() or ""
            owners = {(int(m.group(1)), int(m.group(2))) for m in MEM.finditer(shown)}
            probes += 1
            leaks += any(owner != (user_id, scope_of(place)) for owner in owners)
    return probes, leaks


async def _add_guild_sources(bot: Any, guild_ids: list[int]) -> None:
    service = bot.services.knowledge
    for guild_id in guild_ids:
        chunk = TextChunk("rules.md > Rules", f"Server rules: be kind. Code KBCANARY-{guild_id}.")
        await service.add_source(
            Caller(1, guild_id), guild_id, title="rules.md", kind="file",
            origin="file:rules.md", chunks=[chunk],
        )  # fmt: skip


async def _forget(
    emu: DiscordEmulator, user_ids: list[int], places: dict[int, list[Place]]
) -> None:
    for user_id in user_ids:
        dm = next(p for p in places[user_id] if not p.channel.guild_id)
        handle = await emu.inject_interaction(
            "forget-me", user=user_id, channel=dm.channel, options={"confirm": FORGET}
        )
        await handle.wait(lambda h: (h.final_content() or "").startswith("Done"), USER_DEADLINE_S)


def remains_of(path: Any, user_ids: list[int]) -> tuple[int, int, int]:
    """(memories of the users, summaries naming their canaries, summaries in all)."""
    with closing(sqlite3.connect(path)) as db:
        marks = ",".join("?" for _ in user_ids)
        memories = db.execute(
            f"SELECT COUNT(*) FROM memories WHERE user_id IN ({marks})", user_ids
        ).fetchone()[0]
        texts = [row[0] for row in db.execute("SELECT text FROM conversation_summaries")]
    named = sum(any(f"MEM-{u}-" in text for u in user_ids) for text in texts)
    return int(memories), named, len(texts)


async def run_knowledge_isolation(plan: KnowledgePlan) -> dict[str, Any]:
    """Run the probes and return the figures (see the module docstring)."""
    chooser = random.Random(plan.seed)
    overrides = {
        "tools": {"modules": ["tools.knowledge"]},
        "openai": {"context_tokens": 1000},
        "knowledge": {"summary_model": SUMMARY_MODEL, "max_memories_per_user": 1000},
    }
    with scratch_dir("knowledge") as scratch:
        async with open_rig(scratch) as rig:
            emu = rig.discord
            by_user = build_world(emu, plan, chooser)  # type: ignore[arg-type]
            places = list({place.number: place for p in by_user.values() for place in p}.values())
            probes = make_probes(emu, by_user, plan.probes, chooser)
            rig.openai.chat.set_default(leaky_model)
            lanes: dict[int, list[Probe]] = {}
            for probe in probes:
                lanes.setdefault(probe.place.number, []).append(probe)
            async with rig.harness.run(**overrides) as bot:
                guild_ids = sorted({p.channel.guild_id for p in places if p.channel.guild_id})
                await wait_for_channels(
                    bot, [p.channel.id for p in places if p.channel.guild_id], 30
                )
                await emu.wait_until(lambda: "chat" in emu.commands.names(), 30)
                await _add_guild_sources(bot, guild_ids)
                silent = await asyncio.gather(*(_lane(emu, lane) for lane in lanes.values()))
                shows, show_leaks = await memory_show_leaks(emu, by_user)
                forgotten = list(by_user)[: len(by_user) // 2]
                before = remains_of(store_path(bot), forgotten)
                await _forget(emu, forgotten, by_user)
                after = remains_of(store_path(bot), forgotten)
            checked, leaked, own_memory, own_knowledge = request_leaks(
                rig.openai.chat.requests, probes
            )
            summaries = [r for r in rig.openai.chat.requests if r.get("model") == SUMMARY_MODEL]
            return {
                "probes": checked + shows,
                "message_probes": checked,
                "memory_show_probes": shows,
                "leaks": leaked + show_leaks,
                "requests_with_own_memory": own_memory,
                "requests_with_own_knowledge": own_knowledge,
                "summaries_made": len(summaries),
                "forgotten_users": len(forgotten),
                "memories_before_forget": before[0],
                "summaries_naming_them_before_forget": before[1],
                "memories_after_forget": after[0],
                "summaries_naming_them_after_forget": after[1],
                "unanswered": sum(silent),
                "unhandled_exceptions": rig.watch.count,
                "errors": rig.watch.samples(),
            }


def knowledge_isolation_ok(figures: dict[str, Any]) -> bool:
    """The gate: no leak, nothing of a forgotten user left, every probe answered."""
    return (
        figures["leaks"] == 0
        and figures["memories_after_forget"] == 0
        and figures["summaries_naming_them_after_forget"] == 0
        and figures["unanswered"] == 0
        and figures["unhandled_exceptions"] == 0
        and figures["requests_with_own_memory"] > 0
        and figures["requests_with_own_knowledge"] > 0
        and figures["memories_before_forget"] > 0
    )
