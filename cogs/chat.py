"""The message gate: Discord messages the bot should answer go to the conversation service."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.app import ToolcordBot
from bot.delivery import DiscordReply
from bot.i18n import guild_locale
from bot.inputs import read_inputs
from bot.routing import Trigger, trigger_for, user_text
from bot.store import keys
from bot.turns import (
    conversation_key,
    free_chat_here,
    incoming_turn,
    is_known_thread,
    place_of,
    reply_sink,
)

log = logging.getLogger("toolcord.chat")

THREAD_NAME_CHARS = 80


class Chat(commands.Cog):
    """Answers mentions, DMs, replies, the bot's threads and free-chat channels."""

    def __init__(self, bot: ToolcordBot) -> None:
        self.bot = bot
        self._notified_restart = False

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        if self._notified_restart:
            return
        self._notified_restart = True
        for interrupted in self.bot.interrupted:
            await self._notify_interrupted(interrupted)

    async def _notify_interrupted(self, interrupted: object) -> None:
        channel_id = int(getattr(interrupted, "channel_id", 0) or 0)
        channel = self.bot.get_channel(channel_id) if channel_id else None
        if not isinstance(channel, discord.abc.Messageable):
            return
        source_id = getattr(interrupted, "source_message_id", None)
        reference = (
            discord.MessageReference(
                message_id=source_id, channel_id=channel_id, fail_if_not_exists=False
            )
            if source_id
            else None
        )
        try:
            guild = getattr(channel, "guild", None)
            notice = self.bot.catalogue.text("chat.interrupted", guild_locale(guild))
            await channel.send(notice, reference=reference)  # type: ignore[arg-type]
        except discord.HTTPException as exc:
            log.warning(
                "could not tell channel %s about an interrupted answer: %s", channel_id, exc
            )

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """A message was deleted on Discord: redact what the store kept of it."""
        await self._redact([payload.message_id])

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        """Messages were purged on Discord: redact what the store kept of them."""
        await self._redact(sorted(payload.message_ids))

    async def _redact(self, message_ids: list[int]) -> None:
        redacted = await self.bot.services.store.mark_messages_deleted(message_ids)
        if redacted:
            log.info("redacted %d stored turn(s) of deleted Discord messages", redacted)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if me is None or message.author.id == me.id or self.bot.pacer.is_paused(message.channel.id):
            return
        place = await place_of(self.bot, message)
        trigger = trigger_for(
            message,
            me,
            self.bot.settings.chat,
            known_thread=await is_known_thread(self.bot, message),
            free_chat_channels=free_chat_here(message, place),
        )
        if trigger is None:
            return
        inputs = await read_inputs(
            message,
            self.bot.settings.discord.cdn_base_url,
            self.bot.settings.inputs,
            self.bot.services.image_link_fetcher,
        )
        text = user_text(message, me, self.bot.settings.chat.max_input_chars)
        text = "\n\n".join(part for part in (text, inputs.text) if part)
        if not text and not inputs.parts:
            return
        thread = await self._auto_thread(message, trigger, place, text)
        key = (
            keys.thread_key(thread.id)
            if thread is not None
            else await conversation_key(self.bot, message, trigger, place)
        )
        turn = await incoming_turn(
            self.bot,
            message,
            key=key,
            text=text,
            place=place,
            parts=inputs.parts,
            files=inputs.files,
        )
        if thread is None:
            await self.bot.conversations.handle(turn, lambda: reply_sink(self.bot, message))
            return
        turn.channel_id = turn.thread_id = thread.id
        await self.bot.conversations.handle(turn, lambda: self._thread_sink(thread))

    async def _auto_thread(
        self, message: discord.Message, trigger: Trigger, place: object, text: str
    ) -> discord.Thread | None:
        """With auto-thread on, a mention in a channel opens a thread; the answer goes there."""
        wanted = self.bot.settings.chat.auto_thread or bool(getattr(place, "auto_thread", False))
        in_channel = isinstance(message.channel, discord.TextChannel)
        if not (wanted and trigger.reason == "mention" and in_channel):
            return None
        try:
            return await message.create_thread(name=(text or "conversation")[:THREAD_NAME_CHARS])
        except discord.HTTPException as exc:
            log.warning("could not open a thread in channel %s: %s", message.channel.id, exc)
            return None

    async def _thread_sink(self, thread: discord.Thread) -> DiscordReply:
        reply = DiscordReply(
            thread, thread.id, reference=None, pacer=self.bot.pacer, chat=self.bot.settings.chat
        )
        return await reply.start()


async def setup(bot: ToolcordBot) -> None:
    """discord.py extension entry point."""
    await bot.add_cog(Chat(bot))
