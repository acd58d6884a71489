"""/chat end to end: defer first, stream into the response, private, threads, DMs, quotas."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.store import keys
from bot.testing.discord import DiscordEmulator
from bot.testing.openai import OpenAIEmulator
from bot.testing.openai.replies import TextReply

from .conftest import deferred_before, model_request_times

CHAT = "/v1/chat/completions"


async def test_chat_defers_before_the_model_call_and_answers_in_the_channel(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    openai_emulator.chat.reply_text("The answer is 42.", latency=0.2)
    async with commands_bot() as bot:
        handle = await discord_emulator.inject_interaction(
            "chat", user="bob", channel="general", options={"prompt": "what is the answer?"}
        )
        await handle.wait(lambda h: h.final_content() == "The answer is 42.", timeout=20)
        guild, general = discord_emulator.guild.id, discord_emulator.channel("general").id
        conversation = await bot.services.store.get_conversation(keys.channel_key(guild, general))
    assert deferred_before(handle, model_request_times(openai_emulator)[0])
    assert not handle.ephemeral
    assert conversation is not None
    request = openai_emulator.chat.requests[0]
    assert request["messages"][-1]["content"].endswith("what is the answer?")
    edits = discord_emulator.requests_matching("PATCH", r"/webhooks/\d+/[\w-]+/messages/@original")
    assert edits and all(e.json["allowed_mentions"]["parse"] == [] for e in edits)


async def test_private_chat_is_ephemeral_and_in_the_users_own_conversation(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    long_answer = ("word " * 600).strip()  # 2,999 characters: one follow-up
    openai_emulator.chat.reply_text(long_answer)
    async with commands_bot() as bot:
        handle = await discord_emulator.inject_interaction(
            "chat", user="bob", channel="general", options={"prompt": "long", "private": True}
        )
        await handle.wait(
            lambda h: len(h.followups) == 1 and bool(h.original and h.original.edits), timeout=20
        )
        guild, general = discord_emulator.guild.id, discord_emulator.channel("general").id
        own = keys.channel_key(guild, general, discord_emulator.user("bob").id)
        assert await bot.services.store.get_conversation(own) is not None
        assert await bot.services.store.get_conversation(keys.channel_key(guild, general)) is None
    assert handle.ephemeral and handle.followups[0].ephemeral
    assert handle.original is not None
    text = handle.original.content + " " + handle.followups[0].content
    assert " ".join(text.split()) == long_answer


async def test_chat_in_a_new_thread(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    openai_emulator.chat.reply_text("Let's talk here.")
    async with commands_bot() as bot:
        handle = await discord_emulator.inject_interaction(
            "chat",
            user="bob",
            channel="general",
            options={"prompt": "plan a trip", "new_thread": True},
        )
        original = await handle.wait_original_edit(timeout=20)
        found = re.search(r"<#(\d+)>", original.content)
        assert found is not None, original.content
        thread_id = int(found.group(1))
        thread = discord_emulator.channel(thread_id)
        answer = await discord_emulator.wait_for_message(
            thread_id, lambda m: m.content == "Let's talk here.", timeout=20
        )
        conversation = await bot.services.store.get_conversation(keys.thread_key(thread_id))
    assert thread.parent_id == discord_emulator.channel("general").id
    assert answer.allowed_mentions is not None and answer.allowed_mentions["parse"] == []
    assert conversation is not None


async def test_new_thread_needs_a_public_answer(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    async with commands_bot():
        handle = await discord_emulator.inject_interaction(
            "chat",
            user="bob",
            channel="general",
            options={"prompt": "x", "new_thread": True, "private": True},
        )
        await handle.wait(lambda h: bool(h.final_content()), timeout=20)
    assert "public answer" in (handle.final_content() or "")
    assert openai_emulator.attempts(CHAT) == 0


async def test_chat_in_a_direct_message(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    openai_emulator.chat.reply_text("Hi in private.")
    async with commands_bot() as bot:
        handle = await discord_emulator.inject_interaction(
            "chat", user="bob", channel=discord_emulator.dm_channel("bob"), options={"prompt": "hi"}
        )
        await handle.wait(lambda h: h.final_content() == "Hi in private.", timeout=20)
        dm = keys.dm_key(discord_emulator.user("bob").id)
        assert await bot.services.store.get_conversation(dm) is not None
    assert deferred_before(handle, model_request_times(openai_emulator)[0])


async def test_chat_refuses_without_a_model_call_once_the_global_budget_is_spent(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    openai_emulator.chat.set_default(
        TextReply("ok", usage={"prompt_tokens": 900, "completion_tokens": 200})
    )
    async with commands_bot(quotas={"global_daily_tokens": 1000}):
        first = await discord_emulator.inject_interaction(
            "chat", user="bob", channel="general", options={"prompt": "one"}
        )
        await first.wait(lambda h: h.final_content() == "ok", timeout=20)
        second = await discord_emulator.inject_interaction(
            "chat", user="alice", channel="random", options={"prompt": "two"}
        )
        await second.wait(lambda h: "budget" in (h.final_content() or ""), timeout=20)
    assert openai_emulator.attempts(CHAT) == 1
    assert "renews <t:" in (second.final_content() or "")


async def test_a_persona_set_by_command_shapes_the_next_chat(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    async with commands_bot():
        persona = await discord_emulator.inject_interaction(
            "persona set", user="owner", channel="general", options={"text": "a calm librarian"}
        )
        await persona.wait(lambda h: "Saved" in (h.final_content() or ""), timeout=20)
        handle = await discord_emulator.inject_interaction(
            "chat", user="bob", channel="general", options={"prompt": "hello"}
        )
        await handle.wait(lambda h: (h.final_content() or "").startswith("echo:"), timeout=20)
    system = [m["content"] for m in openai_emulator.chat.requests[0]["messages"][:2]]
    assert any("a calm librarian" in str(content) for content in system)


async def test_a_public_answer_falls_back_to_the_channel_when_the_token_is_gone(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    openai_emulator.chat.reply_text("Delivered anyway.")
    expired = {"message": "Unknown Webhook", "code": 10015}
    discord_emulator.faults.add(
        "PATCH", r"/webhooks/\d+/[\w-]+/messages/@original", status=404, times=50, body=expired
    )
    async with commands_bot():
        await discord_emulator.inject_interaction(
            "chat", user="bob", channel="general", options={"prompt": "late"}
        )
        message = await discord_emulator.wait_for_message(
            "general", lambda m: m.content == "Delivered anyway.", timeout=20
        )
    assert message.allowed_mentions is not None and message.allowed_mentions["parse"] == []
