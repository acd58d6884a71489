"""Issue 2: a mention gets a model answer end to end, on the real clients, against the emulators."""

from __future__ import annotations

from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator

from .conftest import MESSAGE_POST, ask

CHAT = "/v1/chat/completions"


async def test_a_mention_gets_an_answer_with_no_mentions_allowed(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    openai_emulator.chat.reply_text("Hello Alice! How can I help?")
    async with bot_harness.run() as bot:
        general = discord_emulator.channel("general")
        source = await ask(discord_emulator, "what can you do?")
        reply = await discord_emulator.wait_for_message(
            general, lambda m: m.content == "Hello Alice! How can I help?", timeout=20
        )
    request = openai_emulator.chat.requests[0]
    assert request["messages"][0]["role"] == "system"
    assert request["messages"][0]["content"] == bot.settings.chat.system_prompt
    assert request["messages"][-1]["role"] == "user"
    assert "what can you do?" in str(request["messages"][-1]["content"])
    assert reply.message_reference and int(reply.message_reference["message_id"]) == int(
        source["id"]
    )
    posts = discord_emulator.requests_matching("POST", MESSAGE_POST)
    assert posts, "the bot must have posted its answer"
    for post in posts:
        assert (post.json or {}).get("allowed_mentions", {}).get("parse") == []
    assert reply.allowed_mentions is not None and reply.allowed_mentions.get("parse") == []
    assert discord_emulator.unhandled == []


async def test_a_restarted_bot_continues_the_conversation(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    general = discord_emulator.channel("general")
    openai_emulator.chat.reply_text("Nice to meet you, Alice.")
    async with bot_harness.run():
        await ask(discord_emulator, "my name is Alice")
        first = await discord_emulator.wait_for_message(
            general, lambda m: m.content == "Nice to meet you, Alice.", timeout=20
        )
    openai_emulator.chat.reply_text("You told me: Alice.")
    async with bot_harness.run():
        await ask(discord_emulator, "what is my name?")
        await discord_emulator.wait_for_message(
            general, lambda m: m.content == "You told me: Alice.", after=first, timeout=20
        )
    second_request = openai_emulator.chat.requests[1]
    contents = [str(m.get("content")) for m in second_request["messages"]]
    assert any("my name is Alice" in c for c in contents)
    assert "Nice to meet you, Alice." in contents
    assert "what is my name?" in contents[-1]


async def test_a_direct_message_gets_an_answer(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, toolcord_bot: object
) -> None:
    openai_emulator.chat.reply_text("Hi in private.")
    bob = discord_emulator.user("bob")
    dm = discord_emulator.dm_channel(bob)
    await discord_emulator.inject_message(dm, bob, "hello bot")
    reply = await discord_emulator.wait_for_message(dm, timeout=20)
    await discord_emulator.wait_until(lambda: reply.content == "Hi in private." or None, timeout=20)
    assert openai_emulator.chat.requests[0]["messages"][-1]["content"].endswith("hello bot")
