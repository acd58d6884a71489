"""The emulator's world: small dataclasses that build their Discord JSON with ``to_payload()``."""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.testing.discord.snowflake import snowflake_timestamp

JsonDict = dict[str, Any]

TEXT_CHANNEL = 0
DM_CHANNEL = 1
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12


@dataclasses.dataclass(eq=False)
class User:
    """A Discord user (a person or a bot)."""

    id: int
    name: str
    bot: bool = False
    global_name: str | None = None
    avatar: str | None = None

    def to_payload(self) -> JsonDict:
        payload: JsonDict = {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": self.avatar,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
            "collectibles": None,
        }
        if self.bot:
            payload["bot"] = True
        return payload


@dataclasses.dataclass(eq=False)
class Role:
    """A guild role; the @everyone role has the guild's id."""

    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    color: int = 0
    hoist: bool = False
    managed: bool = False
    mentionable: bool = False
    bot_id: int | None = None

    def to_payload(self) -> JsonDict:
        payload: JsonDict = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(int(self.permissions)),
            "position": self.position,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "description": None,
            "flags": 0,
        }
        if self.bot_id is not None:
            payload["tags"] = {"bot_id": str(self.bot_id)}
        return payload


@dataclasses.dataclass(eq=False)
class Overwrite:
    """A channel permission overwrite; ``type`` 0 targets a role, 1 a member."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def to_payload(self) -> JsonDict:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(int(self.allow)),
            "deny": str(int(self.deny)),
        }


@dataclasses.dataclass(eq=False)
class Channel:
    """A text channel, DM channel or thread."""

    id: int
    type: int
    name: str | None
    guild_id: int | None = None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False
    rate_limit_per_user: int = 0
    permission_overwrites: list[Overwrite] = dataclasses.field(default_factory=list)
    recipients: list[User] = dataclasses.field(default_factory=list)
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    message_count: int = 0
    member_count: int = 1
    last_message_id: int | None = None

    @property
    def is_thread(self) -> bool:
        return self.type in (10, PUBLIC_THREAD, PRIVATE_THREAD)

    @property
    def is_dm(self) -> bool:
        return self.type == DM_CHANNEL

    def to_payload(self) -> JsonDict:
        if self.is_dm:
            return self._dm_payload()
        if self.is_thread:
            return self._thread_payload()
        return {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "guild_id": str(self.guild_id),
            "position": self.position,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "topic": self.topic,
            "nsfw": self.nsfw,
            "rate_limit_per_user": self.rate_limit_per_user,
            "permission_overwrites": [o.to_payload() for o in self.permission_overwrites],
            "last_message_id": _str_or_none(self.last_message_id),
            "flags": 0,
        }

    def _dm_payload(self) -> JsonDict:
        return {
            "id": str(self.id),
            "type": self.type,
            "last_message_id": _str_or_none(self.last_message_id),
            "flags": 0,
            "recipients": [user.to_payload() for user in self.recipients],
        }

    def _thread_payload(self) -> JsonDict:
        return {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "guild_id": str(self.guild_id),
            "parent_id": str(self.parent_id),
            "owner_id": str(self.owner_id),
            "rate_limit_per_user": self.rate_limit_per_user,
            "message_count": self.message_count,
            "member_count": self.member_count,
            "total_message_sent": self.message_count,
            "last_message_id": _str_or_none(self.last_message_id),
            "flags": 0,
            "applied_tags": [],
            "thread_metadata": {
                "archived": self.archived,
                "auto_archive_duration": self.auto_archive_duration,
                "archive_timestamp": snowflake_timestamp(self.id),
                "locked": self.locked,
                "invitable": True,
                "create_timestamp": snowflake_timestamp(self.id),
            },
        }


@dataclasses.dataclass(eq=False)
class Member:
    """A user's membership of a guild."""

    user: User
    guild_id: int
    roles: list[int] = dataclasses.field(default_factory=list)
    nick: str | None = None
    joined_at: str = ""
    communication_disabled_until: str | None = None
    flags: int = 0

    @property
    def id(self) -> int:
        return self.user.id

    def to_payload(self, *, include_user: bool = True) -> JsonDict:
        payload: JsonDict = {
            "roles": [str(role_id) for role_id in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": self.flags,
            "communication_disabled_until": self.communication_disabled_until,
        }
        if include_user:
            payload["user"] = self.user.to_payload()
        return payload


@dataclasses.dataclass(eq=False)
class Guild:
    """A guild with its roles, channels (and threads) and members, each indexed by id."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = dataclasses.field(default_factory=dict)
    channels: dict[int, Channel] = dataclasses.field(default_factory=dict)
    members: dict[int, Member] = dataclasses.field(default_factory=dict)
    joined_at: str = ""
    preferred_locale: str = "en-US"  # the server's language (Community servers set it)

    @property
    def everyone_role(self) -> Role:
        return self.roles[self.id]

    @property
    def text_channels(self) -> list[Channel]:
        return [c for c in self.channels.values() if not c.is_thread]

    @property
    def threads(self) -> list[Channel]:
        return [c for c in self.channels.values() if c.is_thread]

    def to_payload(self, *, members: list[Member] | None = None) -> JsonDict:
        """GUILD_CREATE form; ``members`` defaults to all (``member_count`` is the total)."""
        sent_members = list(self.members.values()) if members is None else members
        system_channel = next(iter(self.text_channels), None)
        return {
            **_GUILD_CONSTANTS,
            "id": str(self.id),
            "name": self.name,
            "owner_id": str(self.owner_id),
            "joined_at": self.joined_at,
            "preferred_locale": self.preferred_locale,
            "unavailable": False,
            "member_count": len(self.members),
            "large": len(self.members) > 250,
            "system_channel_id": _str_or_none(system_channel.id if system_channel else None),
            "roles": [role.to_payload() for role in self.roles.values()],
            "channels": [channel.to_payload() for channel in self.text_channels],
            "threads": [thread.to_payload() for thread in self.threads],
            "members": [member.to_payload() for member in sent_members],
            "emojis": [],
            "stickers": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "features": [],
        }


_GUILD_CONSTANTS: JsonDict = {
    "icon": None,
    "splash": None,
    "discovery_splash": None,
    "banner": None,
    "description": None,
    "afk_channel_id": None,
    "afk_timeout": 300,
    "verification_level": 0,
    "default_message_notifications": 0,
    "explicit_content_filter": 0,
    "mfa_level": 0,
    "nsfw_level": 0,
    "premium_tier": 0,
    "premium_subscription_count": 0,
    "premium_progress_bar_enabled": False,
    "preferred_locale": "en-US",
    "rules_channel_id": None,
    "public_updates_channel_id": None,
    "safety_alerts_channel_id": None,
    "system_channel_flags": 0,
    "vanity_url_code": None,
    "application_id": None,
    "max_members": 500000,
    "max_video_channel_users": 25,
    "max_stage_video_channel_users": 50,
    "nsfw": False,
    "incidents_data": None,
}


@dataclasses.dataclass(eq=False)
class StoredAttachment:
    """An attachment whose bytes the emulator's CDN serves at ``url`` and ``proxy_url``."""

    id: int
    filename: str
    data: bytes
    content_type: str | None
    url: str
    proxy_url: str
    duration_secs: float | None = None
    waveform: str | None = None
    description: str | None = None
    title: str | None = None
    width: int | None = None
    height: int | None = None
    flags: int = 0

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def is_voice_message(self) -> bool:
        return self.duration_secs is not None and self.waveform is not None

    def to_payload(self) -> JsonDict:
        payload: JsonDict = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.proxy_url,
            "flags": self.flags,
        }
        optional = {
            "content_type": self.content_type,
            "duration_secs": self.duration_secs,
            "waveform": self.waveform,
            "description": self.description,
            "title": self.title,
            "width": self.width,
            "height": self.height,
        }
        payload.update({key: value for key, value in optional.items() if value is not None})
        return payload


@dataclasses.dataclass(eq=False)
class MessageEdit:
    """One edit of a message: content before and after, the request body, and when."""

    at: float
    content_before: str
    content_after: str
    body: JsonDict


@dataclasses.dataclass(eq=False)
class StoredMessage:
    """A message as the emulator holds it (the bot's, an injected one, or an interaction's)."""

    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str
    created_at: float
    seq: int
    type: int = 0
    attachments: list[StoredAttachment] = dataclasses.field(default_factory=list)
    embeds: list[JsonDict] = dataclasses.field(default_factory=list)
    components: list[JsonDict] = dataclasses.field(default_factory=list)
    flags: int = 0
    mention_ids: list[int] = dataclasses.field(default_factory=list)
    mention_role_ids: list[int] = dataclasses.field(default_factory=list)
    mention_everyone: bool = False
    allowed_mentions: JsonDict | None = None
    message_reference: JsonDict | None = None
    tts: bool = False
    nonce: str | int | None = None
    edited_timestamp: str | None = None
    edits: list[MessageEdit] = dataclasses.field(default_factory=list)
    reactions: dict[str, set[int]] = dataclasses.field(default_factory=dict)
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: JsonDict | None = None
    thread_id: int | None = None
    position: int | None = None
    deleted_at: float | None = None
    body: JsonDict | None = None
    timestamp: str = dataclasses.field(default="", repr=False)

    def __post_init__(self) -> None:
        if not self.timestamp:
            self.timestamp = snowflake_timestamp(self.id)

    @property
    def author_id(self) -> int:
        return self.author.id

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & 64)

    @property
    def is_voice_message(self) -> bool:
        return bool(self.flags & 8192)

    @property
    def referenced_message_id(self) -> int | None:
        if self.message_reference is None or "message_id" not in self.message_reference:
            return None
        return int(self.message_reference["message_id"])


def _str_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)
