"""The loopback Discord of toolcord's test kit: gateway, REST and CDN for a real discord.py bot."""

from bot.testing.discord.config import EmulatorConfig
from bot.testing.discord.emulator import DiscordEmulator
from bot.testing.discord.faults import FaultRule
from bot.testing.discord.gateway_session import DispatchRecord, GatewayLogEntry, GatewaySession
from bot.testing.discord.interactions import InteractionCallback, InteractionHandle
from bot.testing.discord.models import (
    Channel,
    Guild,
    Member,
    MessageEdit,
    Overwrite,
    Role,
    StoredAttachment,
    StoredMessage,
    User,
)
from bot.testing.discord.permissions import Perm
from bot.testing.discord.ratelimit import RateLimitConfig
from bot.testing.discord.recorder import Mark, MultipartPart, RecordedRequest
from bot.testing.discord.signal import EmulatorTimeout

__all__ = [
    "Channel",
    "DiscordEmulator",
    "DispatchRecord",
    "EmulatorConfig",
    "EmulatorTimeout",
    "FaultRule",
    "GatewayLogEntry",
    "GatewaySession",
    "Guild",
    "InteractionCallback",
    "InteractionHandle",
    "Mark",
    "Member",
    "MessageEdit",
    "MultipartPart",
    "Overwrite",
    "Perm",
    "RateLimitConfig",
    "RecordedRequest",
    "Role",
    "StoredAttachment",
    "StoredMessage",
    "User",
]
