"""Where an answer goes: the reply sink of a target, and the thread an answer opens."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.conversation import ReplySink
from bot.delivery import DiscordReply
from bot.intake.arrival import Arrival, InteractionTarget, ReplyTarget, into_thread
from bot.interaction_reply import InteractionReply

if TYPE_CHECKING:
    from bot.app import ToolcordBot


async def start_reply(bot: ToolcordBot, target: ReplyTarget) -> ReplySink:
    """A started reply sink that answers at ``target``."""
    chat = bot.settings.chat
    if isinstance(target, InteractionTarget):
        return await InteractionReply(target.interaction, private=target.private, chat=chat).start()
    reply = DiscordReply(
        target.channel, target.channel_id, reference=target.reference, pacer=bot.pacer, chat=chat
    )
    return await reply.start()


async def open_thread(
    arrival: Arrival, message: discord.Message, name: str, *, parent_id: int | None
) -> Arrival:
    """Open a thread on ``message`` and answer ``arrival`` there (raises discord.HTTPException).

    Args:
        arrival: The arrival as it came.
        message: The message the thread starts from.
        name: The thread's name.
        parent_id: See :func:`bot.intake.arrival.into_thread`.
    """
    thread = await message.create_thread(name=name)
    return into_thread(arrival, thread, parent_id=parent_id)
