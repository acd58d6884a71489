"""The intake classifies each Discord event once: the exact arrival of each kind of message.

The real bot runs against the Discord emulator; each test catches the ``discord.Message`` (or the
``discord.Interaction``) the bot received and asks the intake what it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.app import ToolcordBot
from bot.intake import (
    Arrival,
    Asker,
    ChannelTarget,
    InteractionTarget,
    interaction_arrival,
    message_arrival,
)
from bot.policy.permissions import invoker_from
from bot.store.keys import Where
from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator, TextReply
from cogs.admin import sync_commands

TIMEOUT = 20


def _answer_ok(openai_emulator: OpenAIEmulator) -> None:
    openai_emulator.chat.set_default(lambda request: TextReply("ok"))


async def _received(
    bot: ToolcordBot, inject: Callable[[], Awaitable[dict[str, Any]]]
) -> discord.Message:
    """Inject a message; returns it as the bot received it."""
    me = bot.user
    assert me is not None
    seen = bot.wait_for("message", check=lambda m: m.author.id != me.id, timeout=TIMEOUT)
    payload = await inject()
    message: discord.Message = await seen
    assert message.id == int(payload["id"])
    return message


def _target(arrival: Arrival) -> tuple[int, int | None]:
    """The reply target of a message arrival: its channel and the message it replies to."""
    target = arrival.target
    assert isinstance(target, ChannelTarget)
    reference = target.reference.message_id if target.reference is not None else None
    return target.channel_id, reference


async def _private_conversations(bot: ToolcordBot, guild_id: int) -> None:
    settings = bot.services.guild_settings
    await settings.update("guild", guild_id, private_conversations=True)


async def test_a_dm(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    _answer_ok(openai_emulator)
    emu = discord_emulator
    alice, dm = emu.user("alice"), emu.dm_channel("alice")
    async with bot_harness.run() as bot:
        message = await _received(bot, lambda: emu.inject_message(dm, alice, "hello"))
        arrival = await message_arrival(bot, message)
    assert arrival is not None
    assert (arrival.where, arrival.key, arrival.trigger.reason, arrival.kind) == (
        Where(alice.id, None, dm.id),
        f"dm:{alice.id}",
        "dm",
        "text",
    )
    assert arrival.asker == Asker(name="alice", is_owner=False)
    assert (arrival.source_id, _target(arrival)) == (message.id, (dm.id, message.id))


async def test_a_mention_in_a_guild_channel(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    _answer_ok(openai_emulator)
    emu = discord_emulator
    guild, general, alice = emu.guild, emu.channel("general"), emu.user("alice")
    async with bot_harness.run() as bot:
        text = f"<@{emu.bot_user.id}> hi"
        message = await _received(
            bot, lambda: emu.inject_message(general, alice, text, mentions=[emu.bot_user])
        )
        arrival = await message_arrival(bot, message)
    assert arrival is not None
    assert (arrival.where, arrival.key, arrival.trigger.reason, arrival.kind) == (
        Where(alice.id, guild.id, general.id),
        f"guild:{guild.id}:channel:{general.id}",
        "mention",
        "text",
    )
    assert arrival.asker.guild_locale is not None and arrival.asker.member_permissions is not None
    assert _target(arrival) == (general.id, message.id)


async def test_a_mention_in_a_private_conversations_guild_is_per_user(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    _answer_ok(openai_emulator)
    emu = discord_emulator
    guild, general, alice = emu.guild, emu.channel("general"), emu.user("alice")
    async with bot_harness.run() as bot:
        await _private_conversations(bot, guild.id)
        text = f"<@{emu.bot_user.id}> hi"
        message = await _received(
            bot, lambda: emu.inject_message(general, alice, text, mentions=[emu.bot_user])
        )
        arrival = await message_arrival(bot, message)
    assert arrival is not None
    assert (arrival.where, arrival.key, arrival.trigger.reason) == (
        Where(alice.id, guild.id, general.id, private=True),
        f"guild:{guild.id}:channel:{general.id}:user:{alice.id}",
        "mention",
    )
    assert _target(arrival) == (general.id, message.id)


async def _ask_and_get_answer(emu: DiscordEmulator, bot: ToolcordBot, user: str) -> dict[str, Any]:
    """``user`` mentions the bot in #general; returns the bot's answer once it is stored."""
    general = emu.channel("general")
    mark = emu.mark()
    await emu.inject_message(
        general, emu.user(user), f"<@{emu.bot_user.id}> first", mentions=[emu.bot_user]
    )
    answer = await emu.wait_for_message(general, lambda m: m.content == "ok", after=mark)
    assert await bot.conversations.drain(TIMEOUT) == 0
    return {"id": answer.id}


async def test_a_reply_continues_the_conversation_it_replies_to(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    _answer_ok(openai_emulator)
    emu = discord_emulator
    guild, general, alice = emu.guild, emu.channel("general"), emu.user("alice")
    async with bot_harness.run() as bot:
        answer = await _ask_and_get_answer(emu, bot, "alice")
        await _private_conversations(bot, guild.id)  # the place's key would now be alice's own
        message = await _received(
            bot,
            lambda: emu.inject_message(
                general, alice, "more", reference=answer["id"], mentions=[emu.bot_user]
            ),
        )
        arrival = await message_arrival(bot, message)
    assert arrival is not None
    assert (arrival.key, arrival.trigger.reason) == (
        f"guild:{guild.id}:channel:{general.id}",
        "reply",
    )
    assert _target(arrival) == (general.id, message.id)


async def test_a_reply_to_another_users_private_conversation_starts_the_replier_s_own(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    _answer_ok(openai_emulator)
    emu = discord_emulator
    guild, general, bob = emu.guild, emu.channel("general"), emu.user("bob")
    async with bot_harness.run() as bot:
        await _private_conversations(bot, guild.id)
        answer = await _ask_and_get_answer(emu, bot, "alice")
        stored = await bot.services.store.conversation_for_message(answer["id"])
        assert stored is not None
        assert stored.key == f"guild:{guild.id}:channel:{general.id}:user:{emu.user('alice').id}"
        message = await _received(
            bot,
            lambda: emu.inject_message(
                general, bob, "let me see", reference=answer["id"], mentions=[emu.bot_user]
            ),
        )
        arrival = await message_arrival(bot, message)
    assert arrival is not None
    assert (arrival.key, arrival.trigger.reason) == (
        f"guild:{guild.id}:channel:{general.id}:user:{bob.id}",
        "reply",
    )


async def test_a_message_in_a_thread(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    _answer_ok(openai_emulator)
    emu = discord_emulator
    guild, general, alice = emu.guild, emu.channel("general"), emu.user("alice")
    thread = emu.add_thread(general, "planning", alice)
    async with bot_harness.run() as bot:
        await _private_conversations(bot, guild.id)  # a thread stays shared
        text = f"<@{emu.bot_user.id}> plan"
        message = await _received(
            bot, lambda: emu.inject_message(thread, alice, text, mentions=[emu.bot_user])
        )
        arrival = await message_arrival(bot, message)
    assert arrival is not None
    assert (arrival.where, arrival.key, arrival.trigger.reason) == (
        Where(
            alice.id, guild.id, thread.id, thread_id=thread.id, parent_id=general.id, private=True
        ),
        f"thread:{thread.id}",
        "mention",
    )
    assert _target(arrival) == (thread.id, message.id)


async def test_a_voice_message(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    _answer_ok(openai_emulator)
    emu = discord_emulator
    alice, dm = emu.user("alice"), emu.dm_channel("alice")
    async with bot_harness.run() as bot:
        message = await _received(bot, lambda: emu.inject_voice_message(dm, alice))
        arrival = await message_arrival(bot, message)
    assert arrival is not None
    assert (arrival.key, arrival.trigger.reason, arrival.kind) == (f"dm:{alice.id}", "dm", "voice")
    assert _target(arrival) == (dm.id, message.id)


async def test_an_interaction_in_a_thread(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    _answer_ok(openai_emulator)
    emu = discord_emulator
    guild, general, bob = emu.guild, emu.channel("general"), emu.user("bob")
    thread = emu.add_thread(general, "planning", emu.user("alice"))
    async with bot_harness.run() as bot:
        await sync_commands(bot)
        seen = bot.wait_for("interaction", timeout=TIMEOUT)
        handle = await emu.inject_interaction(
            "chat", user="bob", channel=thread, options={"prompt": "hello"}
        )
        interaction: discord.Interaction = await seen
        invoker = invoker_from(interaction)
        place = await bot.services.guild_settings.effective(guild.id, thread.id, general.id)
        shared = interaction_arrival(
            interaction, invoker, place, trigger="command", own=False, private=False
        )
        own = interaction_arrival(
            interaction, invoker, place, trigger="context_menu", own=True, private=True
        )
        await handle.wait(lambda h: h.final_content() == "ok", timeout=TIMEOUT)
        assert await bot.services.store.get_conversation(shared.key) is not None
    where = Where(bob.id, guild.id, thread.id, thread_id=thread.id, parent_id=general.id)
    assert (shared.where, shared.key, shared.trigger.reason, shared.kind) == (
        where,
        f"thread:{thread.id}",
        "command",
        "text",
    )
    assert shared.target == InteractionTarget(interaction, private=False)
    assert (shared.source_id, shared.asker.locale) == (interaction.id, "en-US")
    assert (own.key, own.trigger.reason) == (
        f"guild:{guild.id}:channel:{thread.id}:user:{bob.id}",
        "context_menu",
    )
    assert own.target == InteractionTarget(interaction, private=True)


async def test_one_listener_takes_every_message(bot_harness: BotHarness) -> None:
    async with bot_harness.run() as bot:
        listeners = bot.extra_events.get("on_message", [])
        voice_listeners = bot.extra_events.get("on_voice_arrival", [])
        assert [type(getattr(f, "__self__", None)).__name__ for f in listeners] == ["Chat"]
        assert [type(getattr(f, "__self__", None)).__name__ for f in voice_listeners] == ["Voice"]
