"""From a Discord message to the conversation service: place, key, turn and reply sink.

The chat and voice cogs (and anything else that answers messages) share this, so a message becomes
a turn the same way whatever carried it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.conversation import IncomingTurn
from bot.delivery import DiscordReply
from bot.routing import Trigger
from bot.store import keys
from tools import Artifact

if TYPE_CHECKING:
    from bot.app import ToolcordBot
    from bot.guild_settings import EffectiveSettings


async def place_of(bot: ToolcordBot, message: discord.Message) -> EffectiveSettings | None:
    """The guild/channel settings in force where the message was sent (None without the service)."""
    service = bot.services.guild_settings
    channel = message.channel
    parent_id = channel.parent_id if isinstance(channel, discord.Thread) else None
    guild_id = message.guild.id if message.guild else None
    place: EffectiveSettings = await service.effective(guild_id, channel.id, parent_id)
    return place


def free_chat_here(message: discord.Message, place: EffectiveSettings | None) -> frozenset[int]:
    """This channel, when an admin made it a free-chat channel."""
    return frozenset({message.channel.id}) if place is not None and place.free_chat else frozenset()


async def is_known_thread(bot: ToolcordBot, message: discord.Message) -> bool:
    """A thread the bot was summoned into before (it has a conversation)."""
    if not isinstance(message.channel, discord.Thread):
        return False
    found = await bot.services.store.get_conversation(keys.thread_key(message.channel.id))
    return found is not None


async def conversation_key(
    bot: ToolcordBot, message: discord.Message, trigger: Trigger, place: EffectiveSettings | None
) -> str:
    """DM per user, thread per thread, channel shared or per user; replies continue theirs."""
    if trigger.reason == "reply" and message.reference and message.reference.message_id:
        found = await bot.services.store.conversation_for_message(message.reference.message_id)
        if found is not None and keys.may_continue(found.key, message.author.id):
            return str(found.key)
    if message.guild is None:
        return keys.dm_key(message.author.id)
    if isinstance(message.channel, discord.Thread):
        return keys.thread_key(message.channel.id)
    private = place is not None and place.private_conversations
    user_id = message.author.id if private else None
    return keys.channel_key(message.guild.id, message.channel.id, user_id)


async def incoming_turn(
    bot: ToolcordBot,
    message: discord.Message,
    *,
    key: str,
    text: str,
    place: EffectiveSettings | None,
    parts: Sequence[dict[str, Any]] = (),
    files: Sequence[Artifact] = (),
) -> IncomingTurn:
    """The turn the conversation service takes for this message."""
    member = message.author if isinstance(message.author, discord.Member) else None
    thread_id = message.channel.id if isinstance(message.channel, discord.Thread) else None
    overrides = place.turn_overrides() if place is not None else {}
    if isinstance(message.channel, discord.Thread):
        overrides["parent_id"] = message.channel.parent_id
    return IncomingTurn(
        key=key,
        user_id=message.author.id,
        user_name=message.author.display_name,
        channel_id=message.channel.id,
        text=text,
        source_message_id=message.id,
        guild_id=message.guild.id if message.guild else None,
        thread_id=thread_id,
        parts=list(parts),
        files=list(files),
        is_owner=await bot.is_owner(message.author),
        member_permissions=member.guild_permissions.value if member else None,
        member_top_role=member.top_role.position if member else 0,
        guild_locale=message.guild.preferred_locale.value if message.guild else None,
        overrides=overrides,
    )


async def reply_sink(bot: ToolcordBot, message: discord.Message) -> DiscordReply:
    """A started DiscordReply that answers ``message`` in its channel."""
    reply = DiscordReply(
        message.channel,
        message.channel.id,
        reference=message.to_reference(fail_if_not_exists=False),
        pacer=bot.pacer,
        chat=bot.settings.chat,
    )
    return await reply.start()
