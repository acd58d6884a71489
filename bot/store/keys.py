"""Conversation keys: which stored conversation a Discord message belongs to.

Pure functions. Keys are strings that name their scope:

* ``dm:{user}``: a direct-message conversation, one per user;
* ``thread:{thread}``: one per thread, shared by everyone in it;
* ``guild:{guild}:channel:{channel}``: one per channel, shared;
* ``guild:{guild}:channel:{channel}:user:{user}``: one per user in a channel, when the guild
  chooses private conversations.

:func:`conversation_key` derives the key of a place (a :class:`Where`); nothing else does.
A reply to a bot message continues that message's conversation instead; the store finds it
(``Store.conversation_for_message``) and the caller checks ``may_continue`` before using it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


def dm_key(user_id: int) -> str:
    """The key of a user's direct-message conversation."""
    return f"dm:{user_id}"


def thread_key(thread_id: int) -> str:
    """The key of a thread's conversation (shared by everyone in the thread)."""
    return f"thread:{thread_id}"


def channel_key(guild_id: int, channel_id: int, user_id: int | None = None) -> str:
    """The key of a channel's conversation; per user when ``user_id`` is given."""
    key = f"guild:{guild_id}:channel:{channel_id}"
    return key if user_id is None else f"{key}:user:{user_id}"


Scope = Literal["here", "own", "shared"]


@dataclass(frozen=True)
class Where:
    """Where a Discord event happened, as conversation keys and settings see it.

    Attributes:
        user_id: Who sent the message or ran the command.
        guild_id: ``None`` in a DM (and where the guild's data is not ours to keep).
        channel_id: The channel the event happened in (for a thread: the thread itself).
        thread_id: The thread, when the event happened in one.
        parent_id: A thread's parent channel.
        private: Whether the guild keeps one conversation per user in shared channels.
    """

    user_id: int
    guild_id: int | None
    channel_id: int
    thread_id: int | None = None
    parent_id: int | None = None
    private: bool = False


def conversation_key(where: Where, scope: Scope = "here") -> str:
    """The key of the conversation at ``where``: the one function that derives keys from a place.

    Args:
        where: The place.
        scope: ``"here"``: the conversation a message here belongs to (a thread's own; per user
            when ``where.private``); ``"own"``: the user's own conversation in this channel (or
            thread); ``"shared"``: the one everyone here shares.
    """
    if where.guild_id is None:
        return dm_key(where.user_id)
    if scope == "own":
        return channel_key(where.guild_id, where.channel_id, where.user_id)
    if where.thread_id is not None:
        return thread_key(where.thread_id)
    per_user = scope == "here" and where.private
    return channel_key(where.guild_id, where.channel_id, where.user_id if per_user else None)


def private_user_id(key: str) -> int | None:
    """The user a key belongs to alone (DMs and private channel keys), else ``None``."""
    parts = key.split(":")
    if len(parts) == 2 and parts[0] == "dm":
        return _to_int(parts[1])
    if len(parts) == 6 and parts[0] == "guild" and parts[4] == "user":
        return _to_int(parts[5])
    return None


def may_continue(key: str, user_id: int) -> bool:
    """Whether ``user_id`` may add to the conversation ``key`` (e.g. by replying to its messages).

    A private conversation belongs to its user only: another user replying to a bot message in
    it must start or continue their own conversation, never read someone else's.
    """
    owner = private_user_id(key)
    return owner is None or owner == user_id


def _to_int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None
