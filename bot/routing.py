"""When the bot answers a Discord message, and which conversation the message belongs to."""

from __future__ import annotations

import re
from dataclasses import dataclass

import discord

from bot.settings import ChatSettings

CHANNEL_TYPES_WITH_THREADS = (discord.ChannelType.public_thread, discord.ChannelType.private_thread)


@dataclass(frozen=True)
class Trigger:
    """Why the bot answers.

    A message: "dm", "mention", "reply", "thread" or "free_chat"; an interaction: "command"
    (``/chat``) or "context_menu" ("Ask about this message").
    """

    reason: str


def trigger_for(
    message: discord.Message,
    me: discord.abc.User,
    chat: ChatSettings,
    *,
    known_thread: bool,
    free_chat_channels: frozenset[int] = frozenset(),
) -> Trigger | None:
    """The reason to answer ``message``, or None to stay silent."""
    author = message.author
    if author.id == me.id:
        return None
    if author.bot and author.id not in chat.allowed_bot_ids:
        return None
    if message.type not in (discord.MessageType.default, discord.MessageType.reply):
        return None
    if message.guild is None:
        return Trigger("dm")
    if any(user.id == me.id for user in message.mentions) and not _only_reply_ping(message, me):
        return Trigger("mention")
    if _replies_to(message, me):
        return Trigger("reply")
    if _is_thread(message.channel) and (known_thread or _thread_owner(message.channel) == me.id):
        return Trigger("thread")
    channel_ids = {message.channel.id, getattr(message.channel, "parent_id", None)}
    if channel_ids & (set(chat.free_chat_channel_ids) | free_chat_channels):
        return Trigger("free_chat")
    return None


def _replies_to(message: discord.Message, me: discord.abc.User) -> bool:
    reference = message.reference
    if reference is None:
        return False
    resolved = reference.resolved
    return isinstance(resolved, discord.Message) and resolved.author.id == me.id


def _only_reply_ping(message: discord.Message, me: discord.abc.User) -> bool:
    """A reply that pings its author mentions the bot without the user typing a mention."""
    return (
        _replies_to(message, me)
        and f"<@{me.id}>" not in message.content
        and (f"<@!{me.id}>" not in message.content)
    )


def _is_thread(channel: object) -> bool:
    return getattr(channel, "type", None) in CHANNEL_TYPES_WITH_THREADS


def _thread_owner(channel: object) -> int | None:
    return getattr(channel, "owner_id", None)


def user_text(message: discord.Message, me: discord.abc.User, limit: int) -> str:
    """The message text for the model: the bot's own mention removed, other mentions by name."""
    text = re.sub(rf"<@!?{me.id}>", "", message.content)
    for user in message.mentions:
        if user.id != me.id:
            text = re.sub(rf"<@!?{user.id}>", f"@{user.display_name}", text)
    for role in message.role_mentions:
        text = text.replace(f"<@&{role.id}>", f"@{role.name}")
    text = text.strip()
    if len(text) > limit:
        text = text[:limit] + f"\n[message cut: only the first {limit} characters were read]"
    return text
