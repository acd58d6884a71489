"""Discord permission bits and the channel permission algorithm."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.testing.discord.models import Channel, Guild, Member


class Perm(enum.IntFlag):
    """Permission bits, as in Discord's documentation."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38
    MODERATE_MEMBERS = 1 << 40
    SEND_VOICE_MESSAGES = 1 << 46


ALL_PERMISSIONS = (1 << 51) - 1

DEFAULT_EVERYONE = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ATTACH_FILES
    | Perm.EMBED_LINKS
    | Perm.ADD_REACTIONS
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.CREATE_PRIVATE_THREADS
    | Perm.SEND_MESSAGES_IN_THREADS
    | Perm.CHANGE_NICKNAME
    | Perm.SEND_VOICE_MESSAGES
)
MODERATOR = Perm.MODERATE_MEMBERS | Perm.MANAGE_MESSAGES | Perm.KICK_MEMBERS
BOT_ROLE = Perm.MODERATE_MEMBERS | Perm.MANAGE_MESSAGES | Perm.MANAGE_THREADS

THREAD_TYPES = frozenset({10, 11, 12})
DM_PERMISSIONS = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ATTACH_FILES
    | Perm.EMBED_LINKS
    | Perm.ADD_REACTIONS
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.SEND_VOICE_MESSAGES
)


def base_permissions(guild: Guild, member: Member) -> int:
    """Guild-level permissions of a member: @everyone plus every role, owner and admin = all."""
    if member.user.id == guild.owner_id:
        return ALL_PERMISSIONS
    permissions = guild.everyone_role.permissions
    for role_id in member.roles:
        role = guild.roles.get(role_id)
        if role is not None:
            permissions |= role.permissions
    if permissions & Perm.ADMINISTRATOR:
        return ALL_PERMISSIONS
    return permissions


def channel_permissions(guild: Guild, member: Member, channel: Channel) -> int:
    """Permissions of a member in a channel (threads use their parent's overwrites)."""
    permissions = base_permissions(guild, member)
    if permissions == ALL_PERMISSIONS:
        return permissions
    overwrite_source = channel
    if channel.type in THREAD_TYPES and channel.parent_id is not None:
        overwrite_source = guild.channels.get(channel.parent_id, channel)
    overwrites = {overwrite.id: overwrite for overwrite in overwrite_source.permission_overwrites}
    everyone = overwrites.get(guild.id)
    if everyone is not None:
        permissions = (permissions & ~everyone.deny) | everyone.allow
    role_allow = role_deny = 0
    for role_id in member.roles:
        role_overwrite = overwrites.get(role_id)
        if role_overwrite is not None:
            role_allow |= role_overwrite.allow
            role_deny |= role_overwrite.deny
    permissions = (permissions & ~role_deny) | role_allow
    member_overwrite = overwrites.get(member.user.id)
    if member_overwrite is not None:
        permissions = (permissions & ~member_overwrite.deny) | member_overwrite.allow
    if not permissions & Perm.VIEW_CHANNEL:
        return 0
    return permissions


def highest_role_position(guild: Guild, member: Member) -> int:
    """Position of the member's highest role (0 for @everyone only)."""
    positions = [
        guild.roles[role_id].position for role_id in member.roles if role_id in guild.roles
    ]
    return max(positions, default=0)
