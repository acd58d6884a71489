"""Issue 6: moderation end to end on the real bot: blocked input, and actions after Confirm."""

from __future__ import annotations

import datetime

from bot.testing.discord import DiscordEmulator, StoredMessage
from bot.testing.harness import BotHarness
from bot.testing.openai import ModerationReply, OpenAIEmulator, ToolCall

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


async def test_a_time_out_runs_only_after_the_invoker_confirms(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    bob = emu.user("bob")
    openai_emulator.chat.reply_tool_calls(
        [ToolCall("timeout_member", {"member": str(bob.id), "minutes": 10, "reason": "spam"})]
    )
    openai_emulator.chat.reply_text("Posted a confirmation: press Confirm to go ahead.")
    async with bot_harness.run(tools={"modules": TOOL_MODULES}) as bot:
        actions = wire_actions(bot)
        if "cogs.moderation" not in bot.extensions:
            await bot.load_extension("cogs.moderation")
        await ask(emu, f"time out <@{bob.id}> for 10 minutes, he spams", user="alice")
        prompt = await emu.wait_for_message("general", confirmation, timeout=20)
        await emu.wait_for_message("general", lambda m: "press Confirm" in m.content, timeout=20)
        assert "time out bob" in prompt.content and f"<@{emu.user('alice').id}>" in prompt.content
        assert executed_actions(emu) == [], "nothing may happen before Confirm"

        intruder = emu.click(prompt, user="bob", label="Confirm")
        await intruder.wait_response(timeout=10)
        assert intruder.ephemeral and "can confirm or cancel" in (intruder.final_content() or "")
        korean = emu.click(prompt, user="bob", label="Confirm", locale="ko")
        await korean.wait_response(timeout=10)
        alice = emu.user("alice").id
        assert korean.final_content() == (
            f"이 요청을 한 <@{alice}> 님만 확인하거나 취소할 수 있습니다."
        )
        assert executed_actions(emu) == []

        mark = emu.mark()
        click = emu.click(prompt, user="alice", label="Confirm")
        patch = await emu.wait_request("PATCH", PATCH_MEMBER, after=mark, timeout=10)
        await emu.wait_until(lambda: prompt.content.startswith("✅ Done") or None, timeout=10)

    assert click.response_type == 6, "the click is acknowledged before acting"
    assert len(click.callbacks) == 1 and click.rejected == [], "answered once, by the live view"
    assert intruder.rejected == []
    assert click.callbacks[0].received_at <= patch.received_at
    until = datetime.datetime.fromisoformat(str((patch.json or {})["communication_disabled_until"]))
    left = until - datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(minutes=9) < left <= datetime.timedelta(minutes=10)
    member = emu.member(emu.guild, bob)
    assert member is not None and member.communication_disabled_until is not None
    assert prompt.components == [], "the buttons are gone once decided"
    assert len(actions.executed) == 1 and len(executed_actions(emu)) == 1
    tool_result = openai_emulator.chat.requests[1]["messages"][-1]
    assert tool_result["role"] == "tool" and "Nothing happens unless" in tool_result["content"]


async def test_a_message_is_deleted_after_confirmation(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    async with bot_harness.run(tools={"modules": TOOL_MODULES}) as bot:
        wire_actions(bot)
        spam = await emu.inject_message("general", "bob", "cheap pills at example.com")
        openai_emulator.chat.reply_tool_calls(
            [ToolCall("delete_message", {"message": spam["id"], "reason": "spam"})]
        )
        openai_emulator.chat.reply_text("Confirm to delete it.")
        await ask(emu, f"delete message {spam['id']} please", user="alice")
        prompt = await emu.wait_for_message("general", confirmation, timeout=20)
        assert executed_actions(emu) == []

        emu.click(prompt, user="alice", label="Confirm")
        await emu.wait_until(lambda: prompt.content.startswith("✅ Done") or None, timeout=10)

    (deletion,) = executed_actions(emu, {int(spam["id"])})
    assert deletion.path.endswith(f"/messages/{spam['id']}")
    assert emu.message(int(spam["id"])) is None
    assert "deleted a message by bob" in prompt.content


async def test_cancel_and_no_answer_change_nothing(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    bob = emu.user("bob")
    async with bot_harness.run(tools={"modules": TOOL_MODULES}) as bot:
        wire_actions(bot, confirm_timeout_s=1.0)
        spam = await emu.inject_message("general", "bob", "spam")
        openai_emulator.chat.reply_tool_calls(
            [
                ToolCall("delete_message", {"message": spam["id"], "reason": "spam"}),
                ToolCall("timeout_member", {"member": "bob", "minutes": 60, "reason": "spam"}),
            ]
        )
        openai_emulator.chat.reply_text("Two confirmations posted.")
        await ask(emu, "delete that spam and time bob out for an hour", user="alice")
        await emu.wait_until(
            lambda: len([m for m in emu.messages("general") if confirmation(m)]) == 2 or None,
            timeout=20,
        )
        first, second = [m for m in emu.messages("general") if confirmation(m)]
        cancel = emu.click(first, user="alice", label="Cancel")
        await emu.wait_until(lambda: first.content.startswith("✖️ Cancelled") or None, timeout=10)
        await emu.wait_until(lambda: second.content.startswith("⌛ Not confirmed") or None, 10)

    assert cancel.response_type == 7
    assert first.components == [] and second.components == []
    assert executed_actions(emu, {int(spam["id"])}) == []
    assert emu.message(int(spam["id"])) is not None
    member = emu.member(emu.guild, bob)
    assert member is not None and member.communication_disabled_until is None


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


async def test_a_confirmation_from_before_a_restart_cannot_act(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    bob = emu.user("bob")
    openai_emulator.chat.reply_tool_calls(
        [ToolCall("timeout_member", {"member": str(bob.id), "minutes": 5, "reason": "spam"})]
    )
    openai_emulator.chat.reply_text("Confirm it, please.")
    async with bot_harness.run(tools={"modules": TOOL_MODULES}) as bot:
        wire_actions(bot)
        await ask(emu, "time out bob", user="alice")
        prompt = await emu.wait_for_message("general", confirmation, timeout=20)
    async with bot_harness.run(tools={"modules": TOOL_MODULES}) as bot:
        wire_actions(bot)
        if "cogs.moderation" not in bot.extensions:
            await bot.load_extension("cogs.moderation")
        click = emu.click(prompt, user="alice", label="Confirm")
        await emu.wait_until(lambda: "no longer waiting" in prompt.content or None, timeout=10)

    assert click.response_type == 7 and prompt.components == []
    assert executed_actions(emu) == []
