"""Issue 6/17: moderation end to end on the real bot: blocked input, and actions the invoker
allows through the approval buttons."""

from __future__ import annotations

import datetime
import urllib.parse

from bot.testing.discord import DiscordEmulator, StoredMessage
from bot.testing.harness import BotHarness
from bot.testing.openai import ModerationReply, OpenAIEmulator, ToolCall
from tools.approval import refusal_message

from .conftest import MESSAGE_POST, ask
from .moderation_setup import (
    PATCH_MEMBER,
    TOOL_MODULES,
    confirmation,
    executed_actions,
    wire_actions,
    wire_policy,
)

CHAT = "/v1/chat/completions"


async def test_a_time_out_runs_only_after_the_invoker_allows_it(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    bob = emu.user("bob")
    alice = emu.user("alice")
    openai_emulator.chat.reply_tool_calls(
        [ToolCall("timeout_member", {"member": str(bob.id), "minutes": 10, "reason": "spam"})]
    )
    openai_emulator.chat.reply_text("Bob is timed out for 10 minutes.")
    async with bot_harness.run(tools={"modules": TOOL_MODULES}) as bot:
        actions = wire_actions(bot)
        await ask(emu, f"time out <@{bob.id}> for 10 minutes, he spams", user="alice")
        prompt = await emu.wait_for_message("general", confirmation, timeout=20)
        assert f"<@{alice.id}>'s request wants to run `timeout_member`: time out bob" in (
            prompt.content
        )
        assert "> Reason: spam" in prompt.content
        assert f"Only <@{alice.id}> can answer." in prompt.content
        assert labels(prompt) == ["Allow once", "Deny"], "no grant for the whole conversation"
        assert executed_actions(emu) == [], "nothing may happen before the invoker allows it"

        intruder = emu.click(prompt, user="bob", label="Allow once")
        await intruder.wait_response(timeout=10)
        assert intruder.ephemeral
        assert intruder.final_content() == f"Only <@{alice.id}>, who asked, can answer this."
        korean = emu.click(prompt, user="bob", label="Allow once", locale="ko")
        await korean.wait_response(timeout=10)
        assert korean.final_content() == f"요청한 <@{alice.id}> 님만 답할 수 있습니다."
        assert executed_actions(emu) == []

        mark = emu.mark()
        click = emu.click(prompt, user="alice", label="Allow once")
        patch = await emu.wait_request("PATCH", PATCH_MEMBER, after=mark, timeout=10)
        await emu.wait_for_message("general", lambda m: "timed out" in m.content, timeout=20)

    assert prompt.content == f"✅ Allowed once by <@{alice.id}>: `timeout_member` runs now."
    assert click.response_type == 6, "the press is acknowledged before it is checked"
    assert len(click.callbacks) == 1 and click.rejected == [], "answered once, by the live view"
    assert intruder.rejected == [] and korean.rejected == []
    assert click.callbacks[0].received_at <= patch.received_at
    until = datetime.datetime.fromisoformat(str((patch.json or {})["communication_disabled_until"]))
    left = until - datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(minutes=9) < left <= datetime.timedelta(minutes=10)
    audit = {k.lower(): v for k, v in patch.headers.items()}.get("x-audit-log-reason", "")
    assert urllib.parse.unquote(audit) == f"spam (asked by user {alice.id} via the bot)"
    member = emu.member(emu.guild, bob)
    assert member is not None and member.communication_disabled_until is not None
    assert prompt.components == [], "the buttons are gone once decided"
    assert len(actions.executed) == 1 and len(executed_actions(emu)) == 1
    assert actions.executed[0].reason == f"spam (asked by user {alice.id} via the bot)"
    tool_result = openai_emulator.chat.requests[1]["messages"][-1]
    assert tool_result["role"] == "tool"
    assert tool_result["content"] == (
        f"Done: timed out bob (<@{bob.id}>) for 10 minute(s) (allowed by <@{alice.id}>)."
    )


async def test_presses_are_checked_again_against_discord_as_it_is_then(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    bob = emu.user("bob")
    openai_emulator.chat.reply_tool_calls(
        [ToolCall("timeout_member", {"member": str(bob.id), "minutes": 5, "reason": "spam"})]
    )
    openai_emulator.chat.reply_text("Not done.")
    async with bot_harness.run(tools={"modules": TOOL_MODULES}) as bot:
        wire_actions(bot, approval_timeout_s=5.0)
        await ask(emu, "time out bob", user="alice")
        prompt = await emu.wait_for_message("general", confirmation, timeout=20)
        senior = emu.add_role(emu.guild, "Senior", 0, position=2)
        bob_member = emu.member(emu.guild, bob)
        assert bob_member is not None
        bob_member.roles.append(senior.id)
        outranked = emu.click(prompt, user="alice", label="Allow once")
        await outranked.wait_followups(1, timeout=10)
        alice = emu.member(emu.guild, "alice")
        assert alice is not None
        alice.roles.clear()
        demoted = emu.click(prompt, user="alice", label="Allow once")
        await demoted.wait_response(timeout=10)
        await emu.wait_until(lambda: prompt.content.startswith("⌛ Not approved") or None, 20)

    assert outranked.response_type == 6, "acknowledged before the check reads Discord"
    (refusal,) = outranked.followups
    assert refusal.flags & 64, "the refusal is private"
    assert refusal.content == "This cannot run now: their highest role is not below yours"
    assert demoted.ephemeral
    assert (
        demoted.final_content() == "You need the moderate members permission here to answer this."
    )
    assert executed_actions(emu) == []
    tool_result = openai_emulator.chat.requests[1]["messages"][-1]
    assert tool_result["content"] == refusal_message("timeout_member", "timeout")


async def test_a_message_is_deleted_after_approval(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    async with bot_harness.run(tools={"modules": TOOL_MODULES}) as bot:
        actions = wire_actions(bot)
        spam = await emu.inject_message("general", "bob", "cheap pills at example.com")
        openai_emulator.chat.reply_tool_calls(
            [ToolCall("delete_message", {"message": spam["id"], "reason": "spam"})]
        )
        openai_emulator.chat.reply_text("Deleted it.")
        await ask(emu, f"delete message {spam['id']} please", user="alice")
        prompt = await emu.wait_for_message("general", confirmation, timeout=20)
        assert "delete a message by bob" in prompt.content
        assert executed_actions(emu) == []

        emu.click(prompt, user="alice", label="Allow once")
        await emu.wait_for_message("general", lambda m: m.content == "Deleted it.", timeout=20)

    (deletion,) = executed_actions(emu, {int(spam["id"])})
    assert deletion.path.endswith(f"/messages/{spam['id']}")
    assert emu.message(int(spam["id"])) is None
    assert [record.kind for record in actions.executed] == ["delete_message"]
    tool_result = openai_emulator.chat.requests[1]["messages"][-1]
    assert tool_result["content"].startswith("Done: deleted a message by bob")


async def test_deny_and_no_answer_change_nothing(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    bob = emu.user("bob")
    alice = emu.user("alice")
    async with bot_harness.run(tools={"modules": TOOL_MODULES}) as bot:
        wire_actions(bot, approval_timeout_s=3.0)
        spam = await emu.inject_message("general", "bob", "spam")
        openai_emulator.chat.reply_tool_calls(
            [
                ToolCall("delete_message", {"message": spam["id"], "reason": "spam"}),
                ToolCall("timeout_member", {"member": "bob", "minutes": 60, "reason": "spam"}),
            ]
        )
        openai_emulator.chat.reply_text("Neither was done.")
        await ask(emu, "delete that spam and time bob out for an hour", user="alice")
        first = await emu.wait_for_message("general", confirmation, timeout=20)
        deny = emu.click(first, user="alice", label="Deny")
        await emu.wait_until(lambda: first.content.startswith("✖️ Denied") or None, timeout=10)
        second = await emu.wait_for_message(
            "general", lambda m: confirmation(m) and m.id != first.id, timeout=20
        )
        await emu.wait_until(lambda: second.content.startswith("⌛ Not approved") or None, 20)
        await emu.wait_for_message(
            "general", lambda m: m.content == "Neither was done.", timeout=20
        )

    assert deny.response_type == 6
    assert first.content == f"✖️ Denied by <@{alice.id}>: `delete_message` was not run."
    assert first.components == [] and second.components == []
    assert executed_actions(emu, {int(spam["id"])}) == []
    assert emu.message(int(spam["id"])) is not None
    member = emu.member(emu.guild, bob)
    assert member is not None and member.communication_disabled_until is None
    results = [m["content"] for m in openai_emulator.chat.requests[1]["messages"][-2:]]
    assert results == [
        refusal_message("delete_message", "deny"),
        refusal_message("timeout_member", "timeout"),
    ]


async def test_flagged_input_is_blocked_with_a_clear_message_and_logged(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    log_channel = emu.channel("random")
    openai_emulator.moderations.reply(ModerationReply(["harassment"], scores={"harassment": 0.97}))
    moderation = {"mode": "block", "log_channel_id": log_channel.id}
    async with bot_harness.run(moderation=moderation) as bot:
        wire_policy(bot)
        source = await ask(emu, "you are a worthless idiot", user="bob")
        reply = await emu.wait_for_message(
            "general", lambda m: "I can't answer that message" in m.content, timeout=20
        )
        report: StoredMessage = await emu.wait_for_message(log_channel, timeout=20)

    assert reply.content.startswith("⚠️") and "(harassment)" in reply.content
    assert openai_emulator.attempts(CHAT) == 0, "a blocked message never reaches the chat model"
    assert openai_emulator.moderations.requests[0]["input"] == "you are a worthless idiot"
    bob_id = emu.user("bob").id
    assert report.content.startswith(f"⛔ **Blocked** message from <@{bob_id}>")
    assert "harassment 0.97" in report.content and "||you are a worthless idiot||" in report.content
    assert f"/{source['id']}" in report.content
    assert report.mention_ids == [], "the log pings nobody"
    for post in emu.requests_matching("POST", MESSAGE_POST):
        assert (post.json or {}).get("allowed_mentions", {}).get("parse") == []


async def test_a_flagged_answer_is_withheld(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    openai_emulator.moderations.reply(ModerationReply())
    openai_emulator.moderations.reply(ModerationReply(["violence/graphic"]))
    openai_emulator.chat.reply_text("A very graphic description.")
    async with bot_harness.run(moderation={"mode": "block"}) as bot:
        wire_policy(bot)
        await ask(emu, "describe the battle", user="bob")
        reply = await emu.wait_for_message("general", lambda m: "withheld" in m.content, timeout=20)

    assert "graphic description" not in reply.content
    assert [m.content for m in emu.messages("general") if "graphic description" in m.content] == []
    shown_while_streaming = [
        edit.content_before for m in emu.messages("general") for edit in m.edits
    ]
    assert not any("graphic description" in text for text in shown_while_streaming)


async def test_an_approval_request_from_before_a_restart_cannot_act(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    bob = emu.user("bob")
    openai_emulator.chat.reply_tool_calls(
        [ToolCall("timeout_member", {"member": str(bob.id), "minutes": 5, "reason": "spam"})]
    )
    openai_emulator.chat.reply_text("Allow it, please.")
    async with bot_harness.run(tools={"modules": TOOL_MODULES}) as bot:
        wire_actions(bot)
        await ask(emu, "time out bob", user="alice")
        prompt = await emu.wait_for_message("general", confirmation, timeout=20)
    async with bot_harness.run(tools={"modules": TOOL_MODULES}) as bot:
        wire_actions(bot)
        if "cogs.approval" not in bot.extensions:
            await bot.load_extension("cogs.approval")
        click = emu.click(prompt, user="alice", label="Allow once")
        await emu.wait_until(lambda: "no longer waiting" in prompt.content or None, timeout=10)

    assert click.response_type == 7 and prompt.components == []
    assert executed_actions(emu) == []


def labels(message: StoredMessage) -> list[str]:
    """The labels of a message's buttons, in order."""
    return [
        str(button.get("label"))
        for row in message.components
        for button in row.get("components", [])
    ]
