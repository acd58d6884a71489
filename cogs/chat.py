"""The message gate: Discord messages the bot should answer go to the conversation service."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.app import ToolcordBot
from bot.conversation import IncomingTurn
from bot.delivery import DiscordReply
from bot.inputs import read_inputs
from bot.routing import Trigger, trigger_for, user_text
from bot.store import keys

log = logging.getLogger("toolcord.chat")

RESTART_NOTICE = "⚠️ My answer to this was interrupted by a restart. Please ask again."


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
        for interrupted in getattr(self.bot, "interrupted", []):
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
            await channel.send(RESTART_NOTICE, reference=reference)  # type: ignore[arg-type]
        except discord.HTTPException as exc:
            log.warning(
                "could not tell channel %s about an interrupted answer: %s", channel_id, exc
            )

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if me is None or message.author.id == me.id or self.bot.pacer.is_paused(message.channel.id):
            return
        known_thread = await self._is_known_thread(message)
        trigger = trigger_for(message, me, self.bot.settings.chat, known_thread=known_thread)
        if trigger is None:
            return
        turn = await self._turn(message, me, trigger)
        if not turn.text and not turn.parts:
            return
        await self.bot.conversations.handle(turn, lambda: self._sink(message))

    async def _is_known_thread(self, message: discord.Message) -> bool:
        if not isinstance(message.channel, discord.Thread):
            return False
        found = await self.bot.services.store.get_conversation(keys.thread_key(message.channel.id))
        return found is not None

    async def _turn(
        self, message: discord.Message, me: discord.ClientUser, trigger: Trigger
    ) -> IncomingTurn:
        key = await self._conversation_key(message, trigger)
        member = message.author if isinstance(message.author, discord.Member) else None
        thread_id = message.channel.id if isinstance(message.channel, discord.Thread) else None
        inputs = await read_inputs(message, self.bot.settings.discord.cdn_base_url)
        text = user_text(message, me, self.bot.settings.chat.max_input_chars)
        return IncomingTurn(
            key=key,
            user_id=message.author.id,
            user_name=message.author.display_name,
            channel_id=message.channel.id,
            text="\n\n".join(part for part in (text, inputs.text) if part),
            parts=inputs.parts,
            files=inputs.files,
            source_message_id=message.id,
            guild_id=message.guild.id if message.guild else None,
            thread_id=thread_id,
            is_owner=await self.bot.is_owner(message.author),
            member_permissions=member.guild_permissions.value if member else None,
            member_top_role=member.top_role.position if member else 0,
        )

    async def _conversation_key(self, message: discord.Message, trigger: Trigger) -> str:
        if trigger.reason == "reply" and message.reference and message.reference.message_id:
            found = await self.bot.services.store.conversation_for_message(
                message.reference.message_id
            )
            if found is not None and keys.may_continue(found.key, message.author.id):
                return str(found.key)
        if message.guild is None:
            return keys.dm_key(message.author.id)
        if isinstance(message.channel, discord.Thread):
            return keys.thread_key(message.channel.id)
        return keys.channel_key(message.guild.id, message.channel.id)

    async def _sink(self, message: discord.Message) -> DiscordReply:
        reply = DiscordReply(
            message.channel,
            message.channel.id,
            reference=message.to_reference(fail_if_not_exists=False),
            pacer=self.bot.pacer,
            chat=self.bot.settings.chat,
        )
        return await reply.start()


async def setup(bot: ToolcordBot) -> None:
    """discord.py extension entry point."""
    await bot.add_cog(Chat(bot))
