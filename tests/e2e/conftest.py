"""Helpers shared by the end-to-end tests (fixtures come from toolcord's pytest plugin)."""

from __future__ import annotations

from typing import Any

from bot.testing.discord import DiscordEmulator, StoredMessage

MESSAGE_POST = r"/channels/\d+/messages"


def mention(emu: DiscordEmulator) -> str:
    """The bot's mention as a user types it."""
    return f"<@{emu.bot_user.id}>"


async def ask(
    emu: DiscordEmulator, text: str, *, channel: str = "general", user: str = "alice"
) -> dict[str, Any]:
    """Inject a message that mentions the bot in a guild channel."""
    return await emu.inject_message(
        emu.channel(channel), emu.user(user), f"{mention(emu)} {text}", mentions=[emu.bot_user]
    )


def final_text(message: StoredMessage) -> str:
    return message.content
