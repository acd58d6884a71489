"""The emulator's parts, handed to route modules (no globals)."""

from __future__ import annotations

import dataclasses

from bot.testing.discord.cdn import CdnStore
from bot.testing.discord.commands import CommandRegistry
from bot.testing.discord.config import EmulatorConfig
from bot.testing.discord.gateway import GatewayHub
from bot.testing.discord.interactions import InteractionService
from bot.testing.discord.messages import MessageService
from bot.testing.discord.models import Channel
from bot.testing.discord.permissions import DM_PERMISSIONS, Perm, channel_permissions
from bot.testing.discord.rest_common import RestError, error, missing_permissions, unknown
from bot.testing.discord.signal import ChangeSignal
from bot.testing.discord.world import World


@dataclasses.dataclass(eq=False)
class EmulatorContext:
    config: EmulatorConfig
    world: World
    hub: GatewayHub
    messages: MessageService
    interactions: InteractionService
    commands: CommandRegistry
    cdn: CdnStore
    signal: ChangeSignal

    def channel(self, channel_id: int) -> Channel:
        channel = self.world.channels.get(channel_id)
        if channel is None:
            raise unknown("Channel", 10003)
        return channel

    def bot_permissions(self, channel: Channel) -> int:
        if channel.guild_id is None:
            return int(DM_PERMISSIONS)
        guild = self.world.guild(channel.guild_id)
        me = guild.members.get(self.world.bot_user.id)
        return channel_permissions(guild, me, channel) if me is not None else 0

    def require_access(self, channel: Channel) -> int:
        """The bot's permissions in a channel it can see; 403 50001 Missing Access otherwise."""
        permissions = self.bot_permissions(channel)
        if not permissions & Perm.VIEW_CHANNEL:
            raise RestError(error(403, 50001, "Missing Access"))
        return permissions

    def require(self, channel: Channel, *needed: Perm) -> int:
        """403 50013 Missing Permissions unless the bot has every ``needed`` bit here."""
        permissions = self.require_access(channel)
        for permission in needed:
            if not permissions & permission:
                raise missing_permissions()
        return permissions
