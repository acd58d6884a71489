"""Issue 5: when the bot answers, end to end, one test per trigger rule.

A message that must be ignored is followed by one that must be answered; the test then checks that
the model saw only the second, so "ignored" is proven without waiting on a timer.
"""

from __future__ import annotations

from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator, TextReply

from .conftest import ask, mention


def _echo(openai_emulator: OpenAIEmulator) -> None:
    def answer(request: dict) -> TextReply:  # type: ignore[type-arg]
        last = request["messages"][-1]["content"]
        text = last if isinstance(last, str) else str(last)
        return TextReply(f"answer to: {text.strip()}")

    openai_emulator.chat.set_default(answer)


def _user_texts(openai_emulator: OpenAIEmulator) -> list[str]:
    return [str(r["messages"][-1]["content"]).strip() for r in openai_emulator.chat.requests]


async def test_reply_to_the_bot_without_a_mention(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, toolcord_bot: object
) -> None:
    _echo(openai_emulator)
    general = discord_emulator.channel("general")
    await ask(discord_emulator, "first question")
    first = await discord_emulator.wait_for_message(
        general, lambda m: m.content == "answer to: first question", timeout=20
    )
    # Discord's client pings the author of the message replied to by default: the bot is mentioned,
    # so the content arrives even without the Message Content intent.
    await discord_emulator.inject_message(
        general,
        discord_emulator.user("alice"),
        "a follow-up",
        reference=first,
        mentions=[discord_emulator.bot_user],
    )
    await discord_emulator.wait_for_message(
        general, lambda m: m.content == "answer to: a follow-up", timeout=20
    )
    follow_up = openai_emulator.chat.requests[-1]["messages"]
    assert any(m.get("content") == "answer to: first question" for m in follow_up)


async def test_reply_without_ping_with_the_message_content_intent(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    _echo(openai_emulator)
    general = discord_emulator.channel("general")
    async with bot_harness.run(discord={"message_content_intent": True}):
        await ask(discord_emulator, "first question")
        first = await discord_emulator.wait_for_message(
            general, lambda m: m.content == "answer to: first question", timeout=20
        )
        await discord_emulator.inject_message(
            general, discord_emulator.user("bob"), "quiet follow-up", reference=first
        )
        await discord_emulator.wait_for_message(
            general, lambda m: m.content == "answer to: quiet follow-up", timeout=20
        )


async def test_thread_the_bot_was_summoned_into_needs_no_mention(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    _echo(openai_emulator)
    thread = discord_emulator.add_thread(
        discord_emulator.channel("general"), "planning", discord_emulator.user("alice")
    )
    async with bot_harness.run(discord={"message_content_intent": True}):
        alice = discord_emulator.user("alice")
        await discord_emulator.inject_message(
            thread,
            alice,
            f"{mention(discord_emulator)} help us plan",
            mentions=[discord_emulator.bot_user],
        )
        await discord_emulator.wait_for_message(
            thread, lambda m: "help us plan" in m.content, timeout=20
        )
        await discord_emulator.inject_message(thread, alice, "and the budget?")
        await discord_emulator.wait_for_message(
            thread, lambda m: m.content == "answer to: and the budget?", timeout=20
        )


async def test_free_chat_channel_answers_without_mention_and_others_do_not(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    _echo(openai_emulator)
    random = discord_emulator.channel("random")
    general = discord_emulator.channel("general")
    alice = discord_emulator.user("alice")
    async with bot_harness.run(
        discord={"message_content_intent": True}, chat={"free_chat_channel_ids": [random.id]}
    ):
        await discord_emulator.inject_message(general, alice, "not for the bot")
        await discord_emulator.inject_message(random, alice, "hello free chat")
        await discord_emulator.wait_for_message(
            random, lambda m: m.content == "answer to: hello free chat", timeout=20
        )
    assert _user_texts(openai_emulator) == ["hello free chat"]


async def test_other_bots_are_ignored_unless_allow_listed(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    _echo(openai_emulator)
    general = discord_emulator.channel("general")
    other = discord_emulator.add_user("otherbot", bot=True)
    friend = discord_emulator.add_user("friendbot", bot=True)
    for user in (other, friend):
        discord_emulator.add_member(discord_emulator.guild, user, [])
    async with bot_harness.run(chat={"allowed_bot_ids": [friend.id]}):
        me = mention(discord_emulator)
        await discord_emulator.inject_message(
            general, other, f"{me} bot talk", mentions=[discord_emulator.bot_user]
        )
        await discord_emulator.inject_message(
            general, friend, f"{me} friendly bot talk", mentions=[discord_emulator.bot_user]
        )
        await discord_emulator.wait_for_message(
            general, lambda m: m.content == "answer to: friendly bot talk", timeout=20
        )
    assert _user_texts(openai_emulator) == ["friendly bot talk"]


async def test_the_bot_never_answers_itself(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, toolcord_bot: object
) -> None:
    _echo(openai_emulator)
    general = discord_emulator.channel("general")
    openai_emulator.chat.reply_text(f"I mention myself: {mention(discord_emulator)}")
    await ask(discord_emulator, "say your name")
    await discord_emulator.wait_for_message(general, lambda m: "myself" in m.content, timeout=20)
    await ask(discord_emulator, "second")
    await discord_emulator.wait_for_message(
        general, lambda m: m.content == "answer to: second", timeout=20
    )
    assert _user_texts(openai_emulator) == ["say your name", "second"]


async def test_a_replayed_message_create_gets_exactly_one_reply(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, toolcord_bot: object
) -> None:
    _echo(openai_emulator)
    general = discord_emulator.channel("general")
    payload = await ask(discord_emulator, "only once")
    await discord_emulator.wait_for_message(
        general, lambda m: m.content == "answer to: only once", timeout=20
    )
    await discord_emulator.resend_last(
        "MESSAGE_CREATE", lambda record: int(record.payload["id"]) == int(payload["id"])
    )
    await ask(discord_emulator, "next")
    await discord_emulator.wait_for_message(
        general, lambda m: m.content == "answer to: next", timeout=20
    )
    replies = [
        m
        for m in discord_emulator.messages(general)
        if m.message_reference and int(m.message_reference["message_id"]) == int(payload["id"])
    ]
    assert len(replies) == 1
    assert _user_texts(openai_emulator) == ["only once", "next"]
