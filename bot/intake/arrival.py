"""What an arrival is, and the one function that makes the conversation service's turn of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import discord

from bot.conversation import IncomingTurn
from bot.routing import Trigger
from bot.store import keys
from tools import Artifact

if TYPE_CHECKING:
    from bot.guild_settings import EffectiveSettings

Kind = Literal["text", "voice"]


@dataclass(frozen=True)
class ChannelTarget:
    """The answer goes into a channel (or thread), replying to ``reference`` when given."""

    channel: discord.abc.Messageable
    channel_id: int
    reference: discord.MessageReference | None = None


@dataclass(frozen=True)
class InteractionTarget:
    """The answer goes into an interaction's response (ephemeral when ``private``)."""

    interaction: discord.Interaction
    private: bool


ReplyTarget = ChannelTarget | InteractionTarget


@dataclass(frozen=True)
class Asker:
    """Who asks, as the turn's policies see them."""

    name: str
    is_owner: bool
    member_permissions: int | None = None
    member_top_role: int = 0
    locale: str | None = None
    guild_locale: str | None = None


@dataclass(frozen=True)
class Arrival:
    """A Discord event that starts a turn, classified once.

    Attributes:
        where: Where it happened (user, guild, channel, thread).
        place: The guild/channel settings in force there.
        trigger: Why the bot answers.
        key: The conversation the turn goes to.
        kind: ``"text"``, or ``"voice"`` for a voice message the voice cog transcribes.
        asker: Who asks.
        source_id: The Discord message or interaction the turn comes from.
        target: Where the answer goes.
    """

    where: keys.Where
    place: EffectiveSettings
    trigger: Trigger
    key: str
    kind: Kind
    asker: Asker
    source_id: int
    target: ReplyTarget


def into_thread(arrival: Arrival, thread: discord.Thread, *, parent_id: int | None) -> Arrival:
    """The arrival answered in ``thread`` instead: the thread's conversation, no reply reference.

    Args:
        arrival: The arrival as it came.
        thread: The thread the answer goes to.
        parent_id: The parent the turn names for the thread's settings (``/chat new_thread``
            names the channel it was opened from; an auto-opened thread names none, as before).
    """
    where = replace(arrival.where, channel_id=thread.id, thread_id=thread.id, parent_id=parent_id)
    return replace(
        arrival,
        where=where,
        key=keys.conversation_key(where, "shared"),
        target=ChannelTarget(thread, thread.id),
    )


def incoming_turn(
    arrival: Arrival,
    text: str,
    *,
    parts: Sequence[dict[str, Any]] = (),
    files: Sequence[Artifact] = (),
) -> IncomingTurn:
    """The turn the conversation service takes for ``arrival``: messages and interactions alike."""
    where, asker = arrival.where, arrival.asker
    overrides = arrival.place.turn_overrides()
    if where.parent_id is not None:
        overrides["parent_id"] = where.parent_id
    return IncomingTurn(
        key=arrival.key,
        user_id=where.user_id,
        user_name=asker.name,
        channel_id=where.channel_id,
        text=text,
        source_message_id=arrival.source_id,
        guild_id=where.guild_id,
        thread_id=where.thread_id,
        parts=list(parts),
        files=list(files),
        is_owner=asker.is_owner,
        member_permissions=asker.member_permissions,
        member_top_role=asker.member_top_role,
        locale=asker.locale,
        guild_locale=asker.guild_locale,
        overrides=overrides,
    )
