"""An interaction that starts a turn (``/chat``, "Ask about this message") as an arrival."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import discord

from bot.intake.arrival import Arrival, Asker, InteractionTarget
from bot.policy.permissions import Invoker
from bot.routing import Trigger
from bot.store import keys

if TYPE_CHECKING:
    from bot.guild_settings import EffectiveSettings


def where_of(interaction: discord.Interaction, invoker: Invoker) -> keys.Where:
    """Where an interaction runs (threads carry their parent channel).

    ``guild_id`` is None in DMs and in servers that have not added the bot (user-installed
    commands): nothing is kept in such a server's name.
    """
    channel = interaction.channel
    channel_id = interaction.channel_id or invoker.user_id
    guild_id = invoker.guild_id if invoker.guild_install else None
    if guild_id is not None and isinstance(channel, discord.Thread):
        return keys.Where(
            invoker.user_id, guild_id, channel_id, thread_id=channel_id, parent_id=channel.parent_id
        )
    return keys.Where(invoker.user_id, guild_id, channel_id)


def interaction_arrival(
    interaction: discord.Interaction,
    invoker: Invoker,
    place: EffectiveSettings,
    *,
    trigger: str,
    own: bool,
    private: bool,
) -> Arrival:
    """The arrival of a command that asks the model.

    Args:
        interaction: The interaction.
        invoker: Who ran it.
        place: The settings in force where it runs.
        trigger: ``"command"`` (``/chat``) or ``"context_menu"``.
        own: The turn goes to the invoker's own conversation here (else to the shared one).
        private: Only the invoker sees the answer.
    """
    where = replace(where_of(interaction, invoker), private=place.private_conversations)
    return Arrival(
        where=where,
        place=place,
        trigger=Trigger(trigger),
        key=keys.conversation_key(where, "own" if own else "shared"),
        kind="text",
        asker=_asker(interaction, invoker, in_guild=where.guild_id is not None),
        source_id=interaction.id,
        target=InteractionTarget(interaction, private),
    )


def _asker(interaction: discord.Interaction, invoker: Invoker, *, in_guild: bool) -> Asker:
    user = interaction.user
    member = user if isinstance(user, discord.Member) and in_guild else None
    return Asker(
        name=user.display_name,
        is_owner=invoker.is_owner,
        member_permissions=invoker.permissions if in_guild else None,
        member_top_role=member.top_role.position if member is not None else 0,
        locale=str(interaction.locale),
        guild_locale=interaction.guild_locale.value if interaction.guild_locale else None,
    )
