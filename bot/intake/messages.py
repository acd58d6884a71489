"""A Discord message classified once: ignored, a text turn, or a voice message for the voice cog."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord

from bot.inputs import read_inputs
from bot.intake.arrival import Arrival, Asker, ChannelTarget, Kind
from bot.routing import Trigger, trigger_for, user_text
from bot.store import keys
from bot.voice import voice_attachment
from tools import Artifact

if TYPE_CHECKING:
    from bot.app import ToolcordBot
    from bot.guild_settings import EffectiveSettings
    from tools.net import SafeFetcher


@dataclass
class MessageText:
    """What a message says to the model: its text (attachment notes included) and parts."""

    text: str
    parts: list[dict[str, Any]] = field(default_factory=list)
    files: list[Artifact] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.text and not self.parts


async def message_arrival(bot: ToolcordBot, message: discord.Message) -> Arrival | None:
    """What ``message`` is to the bot: an arrival to answer, or None to stay silent."""
    me = bot.user
    if me is None or message.author.id == me.id:
        return None
    kind = _kind(bot, message)
    if kind == "text" and bot.pacer.is_paused(message.channel.id):
        return None  # a voice message is transcribed and shown even there, as before
    place = await settings_at(bot, _guild_id(message), message.channel.id, _parent_id(message))
    where = _where(message, place)
    trigger = trigger_for(
        message,
        me,
        bot.settings.chat,
        known_thread=await is_known_thread(bot, where),
        free_chat_channels=_free_chat_here(where, place),
    )
    if trigger is None:
        return None
    return Arrival(
        where=where,
        place=place,
        trigger=trigger,
        key=await _message_key(bot, message, trigger, where),
        kind=kind,
        asker=await _asker(bot, message),
        source_id=message.id,
        target=ChannelTarget(
            message.channel, message.channel.id, message.to_reference(fail_if_not_exists=False)
        ),
    )


async def message_text(bot: ToolcordBot, message: discord.Message) -> MessageText:
    """The message's text for the model (bot mention removed, cut to the limit), then its inputs."""
    me = bot.user
    assert me is not None, "message_text runs for arrivals, which need the bot logged in"
    inputs = await read_attachments(bot, message)
    text = user_text(message, me, bot.settings.chat.max_input_chars)
    text = "\n\n".join(part for part in (text, inputs.text) if part)
    return MessageText(text, inputs.parts, inputs.files)


async def read_attachments(bot: ToolcordBot, message: discord.Message) -> MessageText:
    """The attachments and image links of ``message`` as notes, parts and files."""
    inputs = await read_inputs(
        message, bot.settings.discord.cdn_base_url, bot.settings.inputs, _link_fetcher(bot)
    )
    return MessageText(inputs.text, inputs.parts, inputs.files)


def _link_fetcher(bot: ToolcordBot) -> SafeFetcher | None:
    return bot.services.image_link_fetcher


async def settings_at(
    bot: ToolcordBot, guild_id: int | None, channel_id: int, parent_id: int | None
) -> EffectiveSettings:
    """The guild/channel settings in force in a channel."""
    return await bot.services.guild_settings.effective(guild_id, channel_id, parent_id)


async def is_known_thread(bot: ToolcordBot, where: keys.Where) -> bool:
    """A thread the bot was summoned into before (it has a conversation)."""
    if where.thread_id is None:
        return False
    key = keys.conversation_key(where, "shared")
    return await bot.services.store.get_conversation(key) is not None


def is_voice_message(message: discord.Message) -> bool:
    """A voice message (by its attachment or its flag)."""
    return voice_attachment(message) is not None or message.flags.voice


def _kind(bot: ToolcordBot, message: discord.Message) -> Kind:
    """Voice messages go to the voice cog when it transcribes them; otherwise they are text."""
    voice = bot.settings.voice.auto_transcribe and is_voice_message(message)
    return "voice" if voice else "text"


def _guild_id(message: discord.Message) -> int | None:
    return message.guild.id if message.guild else None


def _parent_id(message: discord.Message) -> int | None:
    channel = message.channel
    return channel.parent_id if isinstance(channel, discord.Thread) else None


def _where(message: discord.Message, place: EffectiveSettings) -> keys.Where:
    in_thread = isinstance(message.channel, discord.Thread)
    return keys.Where(
        user_id=message.author.id,
        guild_id=_guild_id(message),
        channel_id=message.channel.id,
        thread_id=message.channel.id if in_thread else None,
        parent_id=_parent_id(message),
        private=place.private_conversations,
    )


def _free_chat_here(where: keys.Where, place: EffectiveSettings) -> frozenset[int]:
    """This channel, when an admin made it a free-chat channel."""
    return frozenset({where.channel_id}) if place.free_chat else frozenset()


async def _message_key(
    bot: ToolcordBot, message: discord.Message, trigger: Trigger, where: keys.Where
) -> str:
    """The place's conversation; a reply continues the one it replies to when it may."""
    reference = message.reference
    if trigger.reason == "reply" and reference and reference.message_id:
        found = await bot.services.store.conversation_for_message(reference.message_id)
        if found is not None and keys.may_continue(found.key, where.user_id):
            return str(found.key)
    return keys.conversation_key(where)


async def _asker(bot: ToolcordBot, message: discord.Message) -> Asker:
    author = message.author
    member = author if isinstance(author, discord.Member) else None
    return Asker(
        name=author.display_name,
        is_owner=await bot.is_owner(author),
        member_permissions=member.guild_permissions.value if member else None,
        member_top_role=member.top_role.position if member else 0,
        guild_locale=message.guild.preferred_locale.value if message.guild else None,
    )
