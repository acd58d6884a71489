"""Conversation keys: which stored conversation a Discord message belongs to.

Pure functions. Keys are strings that name their scope:

* ``dm:{user}``: a direct-message conversation, one per user;
* ``thread:{thread}``: one per thread, shared by everyone in it;
* ``guild:{guild}:channel:{channel}``: one per channel, shared;
* ``guild:{guild}:channel:{channel}:user:{user}``: one per user in a channel, when the guild
  chooses private conversations.

A reply to a bot message continues that message's conversation instead; the store finds it
(``Store.conversation_for_message``) and the caller checks ``may_continue`` before using it.
"""

from __future__ import annotations


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


def conversation_key(
    *,
    user_id: int,
    guild_id: int | None,
    channel_id: int,
    thread_id: int | None = None,
    private: bool = False,
) -> str:
    """Derive the key for a message from where it was sent.

    Args:
        user_id: The author.
        guild_id: ``None`` in a DM.
        channel_id: The channel (for a thread: its parent channel).
        thread_id: The thread, when the message is in one.
        private: Whether the guild keeps one conversation per user in shared channels.
    """
    if guild_id is None:
        return dm_key(user_id)
    if thread_id is not None:
        return thread_key(thread_id)
    return channel_key(guild_id, channel_id, user_id if private else None)


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
