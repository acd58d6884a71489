"""The message gate: the one listener for messages.

Each message is classified once by the intake (``bot.intake``); text the bot should answer goes to
the conversation service, voice messages go to the voice cog (the ``voice_arrival`` event).
"""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot import intake
from bot.app import ToolcordBot
from bot.i18n import guild_locale

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
        """The one listener for messages: text goes to chat, voice messages to the voice cog."""
        arrival = await intake.message_arrival(self.bot, message)
        if arrival is None:
            return
        if arrival.kind == "voice":
            self.bot.dispatch("voice_arrival", message, arrival)  # cogs.voice.Voice answers it
            return
        said = await intake.message_text(self.bot, message)
        if said.empty:
            return
        arrival = await self._auto_thread(message, arrival, said.text)
        turn = intake.incoming_turn(arrival, said.text, parts=said.parts, files=said.files)
        target = arrival.target
        await self.bot.conversations.handle(turn, lambda: intake.start_reply(self.bot, target))

    async def _auto_thread(
        self, message: discord.Message, arrival: intake.Arrival, text: str
    ) -> intake.Arrival:
        """With auto-thread on, a mention in a channel opens a thread; the answer goes there."""
        place = arrival.place
        wanted = self.bot.settings.chat.auto_thread or place.auto_thread
        in_channel = isinstance(message.channel, discord.TextChannel)
        if not (wanted and arrival.trigger.reason == "mention" and in_channel):
            return arrival
        name = (text or "conversation")[:THREAD_NAME_CHARS]
        try:
            return await intake.open_thread(arrival, message, name, parent_id=None)
        except discord.HTTPException as exc:
            log.warning("could not open a thread in channel %s: %s", message.channel.id, exc)
            return arrival


async def setup(bot: ToolcordBot) -> None:
    """discord.py extension entry point."""
    await bot.add_cog(Chat(bot))
