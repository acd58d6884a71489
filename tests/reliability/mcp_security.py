"""MCP security (issue 17): text injected in an MCP result steers the model toward an acting
tool, and members without a server's permission ask for its acting tools.

The fixture MCP server (tests/tools/mcp/mcp_fixture_server.py) logs every call it receives to a
file, so executions are counted where they happen: on the server. Two figures must be 0:

* ``injected_executed``: the model reads ``fixture__inject`` (whose text orders a call to
  ``fixture__delete_note``) and then calls ``fixture__delete_note``; the asker holds the server's
  permission, so only the approval step stands in the way, and nobody presses Allow.
* ``no_permission_calls``: members without the server's permission (Kick Members here) make the
  model call ``fixture__delete_note`` directly and after the injection.

Positive controls: the permitted asker presses Allow once and the call does run (the counter works).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.approval import DiscordApprover
from bot.testing.discord import EmulatorTimeout, StoredMessage
from bot.testing.openai import TextReply, ToolCall, ToolCallsReply
from tests.reliability.rig import USER_DEADLINE_S, Rig, ask, content_has, open_rig, scratch_dir

FIXTURE = Path(__file__).resolve().parents[1] / "tools" / "mcp" / "mcp_fixture_server.py"
TOKEN = re.compile(r"\bM(\d+)\b")
APPROVAL_TIMEOUT_S = 0.5


@dataclass(frozen=True)
class McpPlan:
    """How many turns of each kind."""

    injected: int = 20
    no_permission: int = 20
    controls: int = 2


@dataclass(frozen=True)
class Attempt:
    number: int
    kind: str  # injected | no_permission | control
    user: str
    injected_first: bool

    def rounds(self) -> list[Any]:
        act = ToolCallsReply([ToolCall("fixture__delete_note", {"name": f"all-{self.number}"})])
        done = TextReply(f"done M{self.number}")
        if self.injected_first:
            return [ToolCallsReply([ToolCall("fixture__inject", {})]), act, done]
        return [act, done]


def plan(sizes: McpPlan) -> list[Attempt]:
    attempts: list[Attempt] = []
    for _ in range(sizes.injected):
        attempts.append(Attempt(len(attempts), "injected", "alice", True))
    for index in range(sizes.no_permission):
        attempts.append(Attempt(len(attempts), "no_permission", "bob", index % 2 == 0))
    for _ in range(sizes.controls):
        attempts.append(Attempt(len(attempts), "control", "alice", True))
    return attempts


def model_for(attempts: list[Attempt]) -> Any:
    def answer(request: dict[str, Any]) -> Any:
        messages = request.get("messages") or []
        last_user = max(i for i, m in enumerate(messages) if m.get("role") == "user")
        found = TOKEN.search(str(messages[last_user].get("content")))
        if found is None:
            return TextReply("no token")
        rounds = attempts[int(found.group(1))].rounds()
        done = sum(1 for m in messages[last_user:] if m.get("role") == "assistant")
        return rounds[min(done, len(rounds) - 1)]

    return answer


def _asking(number: int) -> Any:
    def check(message: StoredMessage) -> bool:
        return f"all-{number}" in message.content and bool(message.components)

    return check


async def _turn(rig: Rig, attempt: Attempt) -> bool:
    """One attempt; True when the user got the final answer."""
    emu = rig.discord
    channel = emu.channel("general")
    await ask(emu, channel, attempt.user, f"M{attempt.number} please tidy the notes")
    try:
        if attempt.kind == "control":
            prompt = await emu.wait_for_message(channel, _asking(attempt.number), timeout=20)
            emu.click(prompt, user=attempt.user, label="Allow once")
        await emu.wait_for_message(
            channel, content_has(f"done M{attempt.number}"), timeout=USER_DEADLINE_S
        )
    except EmulatorTimeout:
        return False
    return True


def _offered(rig: Rig, attempt: Attempt) -> bool:
    for request in rig.openai.chat.requests:
        users = [str(m.get("content")) for m in request.get("messages", []) if m["role"] == "user"]
        if users and f"M{attempt.number} " in users[-1]:
            names = {t["function"]["name"] for t in request.get("tools") or []}
            return "fixture__delete_note" in names
    return False


async def run_mcp_security(sizes: McpPlan | None = None) -> dict[str, Any]:
    """Run the attempts one after the other and return the figures."""
    attempts = plan(sizes or McpPlan())
    with scratch_dir("mcp") as scratch:
        log = scratch / "calls.log"
        server = {
            "name": "fixture",
            "command": sys.executable,
            "args": [str(FIXTURE)],
            "env": {"MCP_FIXTURE_LOG": str(log)},
            "permission": "kick_members",
        }
        async with open_rig(scratch) as rig:
            rig.openai.chat.set_default(model_for(attempts))
            settings = {"tools": {"modules": []}, "mcp": {"servers": [server], "start_wait_s": 30}}
            answered = 0
            async with rig.harness.run(**settings) as bot:
                approver = DiscordApprover(bot, timeout_s=APPROVAL_TIMEOUT_S)
                bot.services.approver = approver
                bot.services.tool_deps = replace(bot.services.tool_deps, approver=approver)
                for attempt in attempts:
                    answered += await _turn(rig, attempt)
            ran = log.read_text().splitlines() if log.exists() else []
            return _tally(rig, attempts, ran, answered)


def _tally(rig: Rig, attempts: list[Attempt], ran: list[str], answered: int) -> dict[str, Any]:
    def executed(kind: str) -> int:
        numbers = [a.number for a in attempts if a.kind == kind]
        return sum(f"delete_note all-{n}" in ran for n in numbers)

    no_permission = [a for a in attempts if a.kind == "no_permission"]
    return {
        "injected_attempts": sum(a.kind == "injected" for a in attempts),
        "injected_executed": executed("injected"),
        "no_permission_attempts": len(no_permission),
        "no_permission_calls": executed("no_permission"),
        "no_permission_offered": sum(_offered(rig, a) for a in no_permission),
        "positive_controls": sum(a.kind == "control" for a in attempts),
        "positive_controls_executed": executed("control"),
        "unanswered": len(attempts) - answered,
        "unhandled_exceptions": rig.watch.count,
        "errors": rig.watch.samples(),
    }


def mcp_security_ok(figures: dict[str, Any]) -> bool:
    """The gate: no injected or unpermitted call ran; the controls ran; all answered."""
    return (
        figures["injected_executed"] == 0
        and figures["no_permission_calls"] == 0
        and figures["no_permission_offered"] == 0
        and figures["positive_controls_executed"] == figures["positive_controls"]
        and figures["unanswered"] == 0
        and figures["unhandled_exceptions"] == 0
    )
