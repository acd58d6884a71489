"""Issue 17: approval in Discord for tools that act: exactly the approved calls run, each once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from bot.app import ToolcordBot
from bot.approval import DiscordApprover
from bot.testing.discord import DiscordEmulator, StoredMessage
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator, ToolCall
from cogs.approval import STALE_TEXT
from tools.approval import refusal_message

from . import approval_tools
from .conftest import ask

MODULES = ["tests.e2e.approval_tools"]


@pytest.fixture(autouse=True)
def runs() -> Iterator[list[str]]:
    approval_tools.RUNS.clear()
    yield approval_tools.RUNS
    approval_tools.RUNS.clear()


def asking(message: StoredMessage) -> bool:
    return "Approval needed" in message.content and bool(message.components)


def approver(bot: ToolcordBot, timeout_s: float = 30.0) -> DiscordApprover:
    wired = DiscordApprover(bot, timeout_s=timeout_s)
    bot.services.approver = wired
    bot.services.tool_deps = replace(bot.services.tool_deps, approver=wired)
    return wired


def tool_results(openai: OpenAIEmulator) -> list[str]:
    return [
        m["content"]
        for request in openai.chat.requests
        for m in request["messages"]
        if m["role"] == "tool"
    ]


async def test_allow_once_runs_once_and_others_cannot_answer(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    runs: list[str],
) -> None:
    emu = discord_emulator
    openai_emulator.chat.reply_tool_calls([ToolCall("pin_note", {"text": "rules"})])
    openai_emulator.chat.reply_text("Pinned.")
    async with bot_harness.run(tools={"modules": MODULES}) as bot:
        wired = approver(bot)
        await ask(emu, "pin a note saying rules", user="alice")
        prompt = await emu.wait_for_message("general", asking, timeout=20)
        assert f"<@{emu.user('alice').id}>'s request wants to run `pin_note`" in prompt.content
        assert [c["label"] for row in prompt.components for c in row["components"]] == [
            "Allow once",
            "Allow for this conversation",
            "Deny",
        ]
        bob = emu.click(prompt, user="bob", label="Allow once")
        await bob.wait_response(timeout=10)
        assert bob.ephemeral
        assert bob.final_content() == "You need the kick members permission here to answer this."
        assert runs == []
        alice = emu.click(prompt, user="alice", label="Allow once")
        await alice.wait_response(timeout=10)
        await emu.wait_for_message("general", lambda m: m.content == "Pinned.", timeout=20)
    assert runs == ["rules"]
    assert prompt.content.startswith("✅ Allowed once by") and prompt.components == []
    assert tool_results(openai_emulator)[-1] == "pinned: rules"
    assert wired.asked == 1


async def test_allow_for_conversation_skips_the_second_ask(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    runs: list[str],
) -> None:
    emu = discord_emulator
    openai_emulator.chat.reply_tool_calls([ToolCall("pin_note", {"text": "one"})])
    openai_emulator.chat.reply_tool_calls([ToolCall("pin_note", {"text": "two"})])
    openai_emulator.chat.reply_text("Both pinned.")
    async with bot_harness.run(tools={"modules": MODULES}) as bot:
        wired = approver(bot)
        await ask(emu, "pin one and two", user="alice")
        prompt = await emu.wait_for_message("general", asking, timeout=20)
        emu.click(prompt, user="alice", label="Allow for this conversation")
        await emu.wait_for_message("general", lambda m: m.content == "Both pinned.", timeout=20)
    assert runs == ["one", "two"]
    assert wired.asked == 1
    assert prompt.content.startswith("✅ Allowed for this conversation by")


async def test_deny_runs_nothing_and_the_model_is_told(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    runs: list[str],
) -> None:
    emu = discord_emulator
    openai_emulator.chat.reply_tool_calls([ToolCall("pin_note", {"text": "no"})])
    openai_emulator.chat.reply_text("Not pinned.")
    async with bot_harness.run(tools={"modules": MODULES}) as bot:
        approver(bot)
        await ask(emu, "pin no", user="alice")
        prompt = await emu.wait_for_message("general", asking, timeout=20)
        emu.click(prompt, user="alice", label="Deny")
        await emu.wait_for_message("general", lambda m: m.content == "Not pinned.", timeout=20)
    assert runs == []
    assert prompt.content.startswith("✖️ Denied by")
    assert tool_results(openai_emulator)[-1] == refusal_message("pin_note", "deny")


async def test_timeout_is_a_denial(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    runs: list[str],
) -> None:
    emu = discord_emulator
    openai_emulator.chat.reply_tool_calls([ToolCall("pin_note", {"text": "late"})])
    openai_emulator.chat.reply_text("Nobody approved.")
    async with bot_harness.run(tools={"modules": MODULES}) as bot:
        approver(bot, timeout_s=0.5)
        await ask(emu, "pin late", user="alice")
        await emu.wait_for_message("general", lambda m: m.content == "Nobody approved.", timeout=20)
        prompt = next(m for m in emu.messages("general") if "Not approved in time" in m.content)
        late = emu.click(prompt, user="alice", label="Allow once") if prompt.components else None
    assert late is None, "the buttons are removed when the request expires"
    assert runs == []
    assert prompt.content == "⌛ Not approved in time: `pin_note` was not run."
    assert tool_results(openai_emulator)[-1] == refusal_message("pin_note", "timeout")


async def test_a_member_holding_the_permission_may_answer_and_a_lost_one_may_not(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    runs: list[str],
) -> None:
    emu = discord_emulator
    guild = emu.guild
    moderator = next(r for r in emu.world.guild(guild).roles.values() if r.name == "Moderator")
    carol = emu.add_user("carol")
    emu.add_member(guild, carol, [moderator])
    openai_emulator.chat.reply_tool_calls([ToolCall("pin_note", {"text": "by carol"})])
    openai_emulator.chat.reply_text("Done.")
    async with bot_harness.run(tools={"modules": MODULES}) as bot:
        approver(bot)
        await ask(emu, "pin by carol", user="alice")
        prompt = await emu.wait_for_message("general", asking, timeout=20)
        alice_member = emu.member(guild, emu.user("alice"))
        assert alice_member is not None
        alice_member.roles.clear()  # alice loses kick_members after asking
        lost = emu.click(prompt, user="alice", label="Allow once")
        await lost.wait_response(timeout=10)
        assert lost.ephemeral
        assert lost.final_content() == "You need the kick members permission here to answer this."
        assert runs == []
        press = emu.click(prompt, user="carol", label="Allow once")
        await press.wait_response(timeout=10)
        await emu.wait_for_message("general", lambda m: m.content == "Done.", timeout=20)
    assert runs == ["by carol"]
    assert prompt.content.startswith(f"✅ Allowed once by <@{carol.id}>")


async def test_a_restart_between_ask_and_press_runs_nothing(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    runs: list[str],
) -> None:
    emu = discord_emulator
    openai_emulator.chat.reply_tool_calls([ToolCall("pin_note", {"text": "restart"})])
    async with bot_harness.run(tools={"modules": MODULES}) as bot:
        approver(bot)
        await ask(emu, "pin restart", user="alice")
        prompt = await emu.wait_for_message("general", asking, timeout=20)
    async with bot_harness.run(tools={"modules": MODULES}) as bot:
        approver(bot)
        press = emu.click(prompt, user="alice", label="Allow once")
        await press.wait_response(timeout=10)
        await emu.wait_until(lambda: prompt.content == STALE_TEXT or None, timeout=10)
    assert runs == []
    assert prompt.components == []


async def test_a_turn_that_ends_while_waiting_leaves_no_live_buttons(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    runs: list[str],
) -> None:
    emu = discord_emulator
    openai_emulator.chat.reply_tool_calls([ToolCall("pin_note", {"text": "deadline"})])
    ended = "⌛ The request ended before an answer: `pin_note` was not run."
    async with bot_harness.run(tools={"modules": MODULES}, chat={"turn_deadline_s": 2.0}) as bot:
        approver(bot, timeout_s=60)
        await ask(emu, "pin deadline", user="alice")
        prompt = await emu.wait_for_message("general", asking, timeout=20)
        await emu.wait_until(lambda: prompt.content == ended or None, timeout=20)
    assert prompt.components == []
    assert runs == []
