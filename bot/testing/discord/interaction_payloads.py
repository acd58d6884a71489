"""INTERACTION_CREATE payloads: typed options, ``resolved`` data, member permissions."""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.testing.discord.message_store import MessageStore
from bot.testing.discord.models import (
    Channel,
    JsonDict,
    Member,
    Role,
    StoredAttachment,
    StoredMessage,
    User,
)
from bot.testing.discord.payloads import message_payload
from bot.testing.discord.permissions import DM_PERMISSIONS, channel_permissions
from bot.testing.discord.world import World

STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = (
    3, 4, 5, 6, 7, 8, 9, 10, 11,
)  # fmt: skip
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
"""What the app may upload here: a server without boosts (the emulator refuses bigger files)."""


@dataclasses.dataclass
class InteractionRequest:
    """Everything a test says about the interaction it injects."""

    name: str
    user: User
    channel: Channel
    command: JsonDict
    command_type: int = 1
    options: dict[str, Any] | list[JsonDict] | None = None
    target_message: StoredMessage | None = None
    target_user: User | None = None
    permissions: int | None = None
    locale: str = "en-US"


class Resolver:
    """Turns option values (users, channels, roles, attachments) into ids plus ``resolved``."""

    def __init__(self, world: World, channel: Channel) -> None:
        self._world = world
        self._channel = channel
        self._guild = world.guilds.get(channel.guild_id) if channel.guild_id is not None else None
        self.resolved: dict[str, dict[str, JsonDict]] = {}

    def add_user(self, user: User) -> str:
        self.resolved.setdefault("users", {})[str(user.id)] = user.to_payload()
        member = self._guild.members.get(user.id) if self._guild is not None else None
        if member is not None and self._guild is not None:
            entry = member.to_payload(include_user=False)
            entry["permissions"] = str(channel_permissions(self._guild, member, self._channel))
            self.resolved.setdefault("members", {})[str(user.id)] = entry
        return str(user.id)

    def add_channel(self, channel: Channel) -> str:
        entry = channel.to_payload()
        entry["permissions"] = str(_bot_permissions(self._world, channel))
        self.resolved.setdefault("channels", {})[str(channel.id)] = entry
        return str(channel.id)

    def add_role(self, role: Role) -> str:
        self.resolved.setdefault("roles", {})[str(role.id)] = role.to_payload()
        return str(role.id)

    def add_attachment(self, attachment: StoredAttachment) -> str:
        self.resolved.setdefault("attachments", {})[str(attachment.id)] = attachment.to_payload()
        return str(attachment.id)

    def add_message(self, store: MessageStore, message: StoredMessage) -> str:
        self.resolved.setdefault("messages", {})[str(message.id)] = message_payload(
            self._world, store, message
        )
        return str(message.id)

    def value(self, option_type: int, value: Any) -> Any:
        """The wire value of one option."""
        if isinstance(value, Member):
            value = value.user
        if option_type in (USER, MENTIONABLE) and isinstance(value, str) and not value.isdigit():
            value = self._world.user(value)
        if option_type == CHANNEL and isinstance(value, str) and not value.isdigit():
            value = self._world.channel(value, self._guild)
        if isinstance(value, User):
            return self.add_user(value)
        if isinstance(value, Channel):
            return self.add_channel(value)
        if isinstance(value, Role):
            return self.add_role(value)
        if isinstance(value, StoredAttachment):
            return self.add_attachment(value)
        if option_type == INTEGER:
            return int(value)
        if option_type == NUMBER:
            return float(value)
        if option_type == BOOLEAN:
            return bool(value)
        return value


def infer_type(value: Any) -> int:
    """An option type for a value whose command definition is unknown."""
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    kinds = (
        (User, USER),
        (Member, USER),
        (Channel, CHANNEL),
        (Role, ROLE),
        (StoredAttachment, ATTACHMENT),
    )
    return next((kind for cls, kind in kinds if isinstance(value, cls)), STRING)


def build_options(
    definitions: list[JsonDict], values: dict[str, Any], resolver: Resolver
) -> list[JsonDict]:
    by_name = {d.get("name"): d for d in definitions}
    options = []
    for name, value in values.items():
        definition = by_name.get(name)
        option_type = int(definition["type"]) if definition else infer_type(value)
        options.append(
            {"name": name, "type": option_type, "value": resolver.value(option_type, value)}
        )
    return options


def command_data(request: InteractionRequest, store: MessageStore, resolver: Resolver) -> JsonDict:
    """The ``data`` object: id/name/type/guild_id of the synced command, options, resolved."""
    command = request.command
    data: JsonDict = {"id": command["id"], "name": command["name"], "type": request.command_type}
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    if request.command_type == 1:
        path = request.name.split()[1:]
        data["options"] = _nested_options(
            command.get("options") or [], path, request.options, resolver
        )
    elif request.target_message is not None:
        data["target_id"] = resolver.add_message(store, request.target_message)
    elif request.target_user is not None:
        data["target_id"] = resolver.add_user(request.target_user)
    if resolver.resolved:
        data["resolved"] = resolver.resolved
    return data


def _nested_options(
    definitions: list[JsonDict],
    path: list[str],
    values: dict[str, Any] | list[JsonDict] | None,
    resolver: Resolver,
) -> list[JsonDict]:
    if path:
        definition = next((d for d in definitions if d.get("name") == path[0]), {})
        kind = int(definition.get("type") or (SUB_COMMAND_GROUP if len(path) > 1 else SUB_COMMAND))
        inner = _nested_options(definition.get("options") or [], path[1:], values, resolver)
        return [{"name": path[0], "type": kind, "options": inner}]
    if isinstance(values, list):
        return values
    return build_options(definitions, values or {}, resolver)


def interaction_payload(
    world: World,
    request: InteractionRequest,
    data: JsonDict,
    *,
    interaction_id: int,
    token: str,
) -> JsonDict:
    """The whole INTERACTION_CREATE ``d``."""
    channel = request.channel
    payload: JsonDict = {
        "id": str(interaction_id),
        "application_id": str(world.application_id),
        "type": 2,
        "token": token,
        "version": 1,
        "data": data,
        "channel": channel.to_payload(),
        "channel_id": str(channel.id),
        "locale": request.locale,
        "app_permissions": str(_bot_permissions(world, channel)),
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if channel.guild_id is None:
        payload.update(
            user=request.user.to_payload(),
            context=1,
            authorizing_integration_owners={"0": "0"},
        )
        return payload
    guild = world.guild(channel.guild_id)
    member = world.require_member(guild, request.user)
    member_payload = member.to_payload()
    permissions = request.permissions
    if permissions is None:
        permissions = channel_permissions(guild, member, channel)
    member_payload["permissions"] = str(int(permissions))
    payload.update(
        guild_id=str(guild.id),
        guild={"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
        guild_locale=guild.preferred_locale,
        member=member_payload,
        context=0,
        authorizing_integration_owners={"0": str(guild.id)},
    )
    return payload


def _bot_permissions(world: World, channel: Channel) -> int:
    if channel.guild_id is None:
        return int(DM_PERMISSIONS)
    guild = world.guild(channel.guild_id)
    me = guild.members.get(world.bot_user.id)
    return channel_permissions(guild, me, channel) if me is not None else 0
