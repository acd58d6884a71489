"""Attachment limits (issue 16, finding 5): an answer's files against Discord's limits.

Each case is one turn whose scripted model calls file-making tools: image generation beyond the
answer's cap, declared files beyond it, undeclared files beyond it, files over the 10 MiB upload
limit, and files that together pass the 25 MiB request limit. The oracle, written from the rules
(calls admitted in order while their declared files fit the cap; at most 10 files per message;
each file within the place's upload limit; each request within 25 MiB), says what must be made;
every file made must be delivered or named in a visible notice, and Discord must refuse nothing.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from bot.testing.discord import DiscordEmulator, EmulatorTimeout
from bot.testing.openai import ImageReply, ToolCall
from bot.testing.openai.media.png import solid_png
from tests.reliability.rig import USER_DEADLINE_S, ask, bot_messages, open_rig, scratch_dir

CAP = 10
MIB = 1024 * 1024
FILE_TOOLS = {"modules": ["tests.e2e.file_tools", "tools.images"]}
QUOTAS = {"enabled": False}
# Each case scripts its two model replies; no rolling-summary request (issue 18) may take one.
KNOWLEDGE = {"summaries": False}


@dataclass(frozen=True)
class Case:
    """One turn: the tool calls, the files each admitted call makes, and the ones noticed."""

    name: str
    calls: list[ToolCall]
    made: list[int]  # files each call makes when it runs
    declared: list[int]  # files each call declares (0 = undeclared)
    too_big: int = 0  # files over the upload limit among those made


def _files(stem: str, count: int, kib: int = 1) -> ToolCall:
    return ToolCall("make_files", {"stem": stem, "count": count, "kib": kib})


CASES = (
    Case(
        "eleven_images",
        [ToolCall("generate_image", {"prompt": f"p{n}"}) for n in range(11)],
        [1] * 11,
        [1] * 11,
    ),
    Case("one_call_over_the_cap", [_files("many", 15)], [15], [15]),
    Case(
        "calls_beyond_the_cap",
        [_files("a", 6), _files("b", 5), _files("c", 4)],
        [6, 5, 4],
        [6, 5, 4],
    ),
    Case(
        "undeclared_beyond_the_cap", [ToolCall("make_undeclared_files", {"count": 14})], [14], [0]
    ),
    Case("one_file_too_big", [_files("big", 1, 11 * 1024), _files("ok", 2)], [1, 2], [1, 2], 1),
    Case("over_25_mib_together", [_files("part", 3, 9 * 1024)], [3], [3]),
)


def expected(case: Case) -> tuple[int, int]:
    """(files made, calls refused) by the rule: calls run in order while declared files fit."""
    made = refused = reserved = 0
    for declared, makes in zip(case.declared, case.made, strict=True):
        if declared and reserved + declared > CAP:
            refused += 1
            continue
        reserved += declared or makes
        made += makes
    return made, refused


async def _settled_replies(emu: DiscordEmulator, channel: Any, seen: int, made: int) -> list[Any]:
    """The turn's replies once every file made is delivered or noticed (or after a wait)."""

    def accounted() -> bool:
        replies = bot_messages(emu, channel)[seen:]
        shown = sum(len(m.attachments) + m.content.count(".bin (") for m in replies)
        return shown >= made

    with contextlib.suppress(EmulatorTimeout):
        await emu.wait_until(accounted, timeout=10)
    return bot_messages(emu, channel)[seen:]


def _this_turns_tool_results(request: dict[str, Any]) -> list[str]:
    messages = request["messages"]
    # The question, not the user message that shows the model the images its tools returned.
    asked = [i for i, m in enumerate(messages) if m["role"] == "user" and "case " in str(m)]
    last_user = max(asked)
    return [m["content"] for m in messages[last_user:] if m["role"] == "tool"]


def _refused_writes(emu: DiscordEmulator, after: int) -> int:
    return sum(
        1
        for r in emu.requests[after:]
        if "/messages" in r.path and r.status is not None and r.status >= 400
    )


async def run_attachment_limits() -> dict[str, Any]:
    """Run every case as one turn and count files made, delivered, noticed and lost."""
    totals = {"made": 0, "delivered": 0, "noticed": 0, "refused_calls": 0, "expected_refused": 0}
    lost = discord_refusals = crowded = image_calls_over_cap = 0
    with scratch_dir("files") as workdir:
        async with open_rig(workdir) as rig:
            emu = rig.discord
            rig.openai.images.set_default(ImageReply(images=[solid_png(8, 8, (1, 2, 3))]))
            async with rig.harness.run(tools=FILE_TOOLS, quotas=QUOTAS, knowledge=KNOWLEDGE):
                for index, case in enumerate(CASES):
                    channel = emu.channel("general")
                    before_requests = len(emu.requests)
                    before_images = len(rig.openai.images.requests)
                    seen = len(bot_messages(emu, channel))
                    rig.openai.chat.reply_tool_calls(case.calls)
                    rig.openai.chat.reply_text(f"Case {index} done.")
                    await ask(emu, channel, "alice", f"case {case.name}")
                    await emu.wait_for_message(
                        channel, lambda m, i=index: m.content.startswith(f"Case {i} done."),
                        timeout=USER_DEADLINE_S,
                    )  # fmt: skip
                    made, refused = expected(case)
                    replies = await _settled_replies(emu, channel, seen, made)
                    delivered = sum(len(m.attachments) for m in replies)
                    noticed = sum(m.content.count(".bin (") for m in replies)
                    tool_texts = _this_turns_tool_results(rig.openai.chat.requests[-1])
                    totals["made"] += made
                    totals["delivered"] += delivered
                    totals["noticed"] += noticed
                    totals["refused_calls"] += sum(
                        t.startswith("Not run: one answer") for t in tool_texts
                    )
                    totals["expected_refused"] += refused
                    lost += max(0, made - delivered - noticed)
                    discord_refusals += _refused_writes(emu, before_requests)
                    crowded += sum(len(m.attachments) > 10 for m in replies)
                    image_calls = len(rig.openai.images.requests) - before_images
                    image_calls_over_cap += max(0, image_calls - CAP)
    return {
        "cases": len(CASES),
        "files_made": totals["made"],
        "files_delivered": totals["delivered"],
        "files_named_in_notices": totals["noticed"],
        "files_lost_silently": lost,
        "calls_refused_before_running": totals["refused_calls"],
        "calls_the_rules_refuse": totals["expected_refused"],
        "image_calls_beyond_the_cap": image_calls_over_cap,
        "messages_over_10_files": crowded,
        "discord_refusals": discord_refusals,
    }


def attachment_limits_ok(figures: dict[str, Any]) -> bool:
    """The gate: nothing lost silently, Discord refused nothing, the cap held before tools ran."""
    return (
        figures["files_lost_silently"] == 0
        and figures["discord_refusals"] == 0
        and figures["messages_over_10_files"] == 0
        and figures["image_calls_beyond_the_cap"] == 0
        and figures["calls_refused_before_running"] == figures["calls_the_rules_refuse"]
    )
