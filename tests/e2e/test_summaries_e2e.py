"""Issue 18 end to end: a 200-turn conversation keeps a turn-3 fact through its rolling summary."""

from __future__ import annotations

import json
from typing import Any

from bot.knowledge.summaries import NOTICE, SUMMARY_HEADER
from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator, ScriptedSummarizer, TextReply

from .conftest import ask
from .knowledge_kit import run_command, synced

SUMMARY_MODEL = "gpt-5.4-nano"
TURNS = 200
FACT = "FACT: my locker code is 4471"


async def test_a_200_turn_conversation_keeps_a_turn_3_fact_through_its_summary(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu, oai = discord_emulator, openai_emulator
    general = emu.channel("general")
    answers = iter(range(1, 10_000))

    def answer(request: dict[str, Any]) -> TextReply:
        return TextReply(f"ack {next(answers)}")

    summarizer = ScriptedSummarizer(SUMMARY_MODEL, keep=("FACT",), other=answer)
    oai.chat.set_default(summarizer)
    settings = {
        "openai": {"context_tokens": 1000},
        "knowledge": {"summary_model": SUMMARY_MODEL},
        "quotas": {"user_daily_tokens": 10**8, "user_monthly_tokens": 10**8},
    }
    async with bot_harness.run(**settings) as bot:
        await synced(bot)
        for number in range(1, TURNS + 1):
            text = FACT if number == 3 else f"turn {number}: nothing much to say about the weather"
            await ask(emu, text, user="bob")
            await emu.wait_for_message(
                general, lambda m, n=number: m.content.startswith(f"ack {n}"), timeout=30
            )
        exported = await _export(emu)
        usage = await bot.services.store.usage_totals(user_id=emu.user("bob").id)
    chats = [r for r in oai.chat.requests if r["model"] != SUMMARY_MODEL]
    summaries = [r for r in oai.chat.requests if r["model"] == SUMMARY_MODEL]
    last = chats[-1]["messages"]
    # The turn-3 message itself left the window long ago; its fact is in the summary.
    assert not any(m["role"] == "user" and FACT in str(m["content"]) for m in last)
    summary_messages = [
        m["content"] for m in last if m["role"] == "system" and SUMMARY_HEADER in m["content"]
    ]
    assert summary_messages == [f"{SUMMARY_HEADER}\nbob: {FACT}"]
    assert len(summaries) >= 5 and len(chats) == TURNS
    # Told once: the first answer after the first summary carries the notice, no other.
    notices = [m for m in emu.messages(general) if NOTICE in m.content]
    assert len(notices) == 1
    assert exported["summary"]["text"] == f"bob: {FACT}"
    # Summary calls are in the usage ledger, charged to bob (one row per chat and summary).
    assert usage.requests == TURNS + len(summaries)


async def _export(emu: DiscordEmulator) -> dict[str, Any]:
    handle = await emu.inject_interaction("export", user="bob", channel="general")
    await handle.wait(lambda h: bool(h.original and h.original.attachments), timeout=30)
    assert handle.original is not None
    return dict(json.loads(handle.original.attachments[0].data))


async def test_memory_is_in_export_and_only_the_users(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    async with bot_harness.run(tools={"modules": ["tools.knowledge"]}) as bot:
        await synced(bot)
        service = bot.services.knowledge
        await service.store.remember(emu.user("bob").id, emu.guild.id, "likes tea")
        await service.store.remember(emu.user("alice").id, emu.guild.id, "likes coffee")
        openai_emulator.chat.reply_text("hello")
        await ask(emu, "hi", user="bob")
        general = emu.channel("general")
        await emu.wait_for_message(general, lambda m: m.content == "hello", timeout=30)
        exported = await _export(emu)
        assert "likes tea" in await run_command(emu, "memory show", user="bob")
    assert [memory["text"] for memory in exported["memories"]] == ["likes tea"]
    assert exported["memories"][0]["guild_id"] == emu.guild.id
    assert exported["summary"] is None


async def test_forget_me_deletes_memories_and_summaries(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    bob = emu.user("bob").id
    async with bot_harness.run() as bot:
        await synced(bot)
        store = bot.services.knowledge.store
        openai_emulator.chat.reply_text("hello")
        await ask(emu, "my code is 4471", user="bob")
        await emu.wait_for_message(
            emu.channel("general"), lambda m: m.content == "hello", timeout=30
        )
        conversation = await bot.services.store.get_conversation(
            f"guild:{emu.guild.id}:channel:{emu.channel('general').id}"
        )
        assert conversation is not None
        await store.save_summary(conversation.id, "bob: my code is 4471", 1, 8)
        await store.remember(bob, emu.guild.id, "code 4471")
        await store.remember(bob, 0, "dm note")
        answer = await run_command(
            emu, "forget-me", user="bob", confirm="delete everything about me"
        )
        left = (await store.memories(bob, None), await store.summary(conversation.id))
    assert answer.startswith("Done:")
    assert left == ([], None)
