"""The test-kit example of the README, verbatim: it must keep working for bot owners."""

from __future__ import annotations


async def test_the_bot_answers_a_mention(discord_emulator, openai_emulator, toolcord_bot):
    openai_emulator.chat.reply_text("Hello there!")
    channel = discord_emulator.channel("general")
    await discord_emulator.inject_message(
        channel,
        discord_emulator.user("alice"),
        f"<@{discord_emulator.bot_user.id}> hi",
        mentions=[discord_emulator.bot_user],
    )
    reply = await discord_emulator.wait_for_message(channel)
    assert reply.content == "Hello there!"
