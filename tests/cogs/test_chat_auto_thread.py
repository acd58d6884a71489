"""Auto-thread: a mention in a channel opens a thread on it, and the answer goes there."""

from __future__ import annotations

from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator, TextReply


async def test_a_mention_opens_a_thread_that_holds_the_conversation(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    openai_emulator.chat.set_default(lambda request: TextReply("in the thread"))
    emu = discord_emulator
    general = emu.channel("general")
    async with bot_harness.run(chat={"auto_thread": True}) as bot:
        asked = await emu.inject_message(
            general,
            emu.user("alice"),
            f"<@{emu.bot_user.id}> plan the trip",
            mentions=[emu.bot_user],
        )
        thread = await emu.wait_until(
            lambda: next(
                (c for c in emu.world.channels.values() if c.parent_id == general.id), None
            ),
            timeout=20,
        )
        answer = await emu.wait_for_message(thread, lambda m: m.content == "in the thread")
        assert await bot.conversations.drain(20) == 0
        stored = await bot.services.store.conversation_for_message(answer.id)
        assert stored is not None and stored.key == f"thread:{thread.id}"
        found = await bot.services.store.conversation_for_message(int(asked["id"]))
    assert found is not None and found.key == f"thread:{thread.id}"
    assert thread.name == "plan the trip"
    assert answer.message_reference is None
    assert [m.author.id for m in emu.messages(general)] == [emu.user("alice").id]
