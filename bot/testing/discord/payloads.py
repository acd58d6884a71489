"""Builders for the Discord JSON of messages, READY and guild member lists."""

from __future__ import annotations

from typing import Any

from bot.testing.discord.message_store import MessageStore
from bot.testing.discord.models import JsonDict, StoredMessage
from bot.testing.discord.world import World


def message_payload(
    world: World, store: MessageStore, message: StoredMessage, *, with_reference: bool = True
) -> JsonDict:
    """The full message object, as in MESSAGE_CREATE and REST replies."""
    payload: JsonDict = {
        "id": str(message.id),
        "channel_id": str(message.channel_id),
        "type": message.type,
        "content": message.content,
        "author": message.author.to_payload(),
        "timestamp": message.timestamp,
        "edited_timestamp": message.edited_timestamp,
        "tts": message.tts,
        "mention_everyone": message.mention_everyone,
        "mentions": _mentions(world, message),
        "mention_roles": [str(role_id) for role_id in message.mention_role_ids],
        "mention_channels": [],
        "attachments": [attachment.to_payload() for attachment in message.attachments],
        "embeds": message.embeds,
        "components": message.components,
        "pinned": False,
        "flags": message.flags,
    }
    _add_optional(payload, message)
    _add_guild_parts(world, payload, message)
    if message.message_reference is not None:
        payload["message_reference"] = message.message_reference
        if with_reference and message.type == 19:
            payload["referenced_message"] = _referenced(world, store, message)
    return payload


def _add_optional(payload: JsonDict, message: StoredMessage) -> None:
    if message.nonce is not None:
        payload["nonce"] = message.nonce
    if message.webhook_id is not None:
        payload["webhook_id"] = str(message.webhook_id)
    if message.application_id is not None:
        payload["application_id"] = str(message.application_id)
    if message.interaction_metadata is not None:
        payload["interaction_metadata"] = message.interaction_metadata
    if message.position is not None:
        payload["position"] = message.position
    if message.reactions:
        payload["reactions"] = [
            {"emoji": _emoji(key), "count": len(users), "me": False, "burst_colors": []}
            for key, users in message.reactions.items()
        ]


def _add_guild_parts(world: World, payload: JsonDict, message: StoredMessage) -> None:
    if message.guild_id is None:
        return
    payload["guild_id"] = str(message.guild_id)
    guild = world.guilds.get(message.guild_id)
    member = guild.members.get(message.author.id) if guild is not None else None
    if member is not None and message.webhook_id is None:
        payload["member"] = member.to_payload(include_user=False)
    if message.thread_id is not None:
        thread = world.channels.get(message.thread_id)
        if thread is not None:
            payload["thread"] = thread.to_payload()


def _mentions(world: World, message: StoredMessage) -> list[JsonDict]:
    guild = world.guilds.get(message.guild_id) if message.guild_id is not None else None
    mentions: list[JsonDict] = []
    for user_id in message.mention_ids:
        user = world.users.get(user_id)
        if user is None:
            continue
        entry = user.to_payload()
        member = guild.members.get(user_id) if guild is not None else None
        if member is not None:
            entry["member"] = member.to_payload(include_user=False)
        mentions.append(entry)
    return mentions


def _referenced(world: World, store: MessageStore, message: StoredMessage) -> JsonDict | None:
    referenced_id = message.referenced_message_id
    referenced = store.get(referenced_id) if referenced_id is not None else None
    if referenced is None:
        return None
    return message_payload(world, store, referenced, with_reference=False)


def _emoji(key: str) -> JsonDict:
    if ":" in key:
        name, _, emoji_id = key.partition(":")
        return {"id": emoji_id, "name": name}
    return {"id": None, "name": key}


def blank_content(payload: JsonDict) -> JsonDict:
    """The copy real Discord sends to a session without the message_content intent."""
    blanked: dict[str, Any] = {**payload, "content": "", "embeds": [], "attachments": []}
    blanked["components"] = []
    blanked.pop("poll", None)
    return blanked
