"""A Discord-free permission set: integer bit flags named like Discord's permissions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar


def _flags() -> Mapping[str, int]:
    bits = {
        "create_instant_invite": 0,
        "kick_members": 1,
        "ban_members": 2,
        "administrator": 3,
        "manage_channels": 4,
        "manage_guild": 5,
        "add_reactions": 6,
        "view_audit_log": 7,
        "priority_speaker": 8,
        "stream": 9,
        "view_channel": 10,
        "read_messages": 10,
        "send_messages": 11,
        "send_tts_messages": 12,
        "manage_messages": 13,
        "embed_links": 14,
        "attach_files": 15,
        "read_message_history": 16,
        "mention_everyone": 17,
        "use_external_emojis": 18,
        "external_emojis": 18,
        "view_guild_insights": 19,
        "connect": 20,
        "speak": 21,
        "mute_members": 22,
        "deafen_members": 23,
        "move_members": 24,
        "use_voice_activation": 25,
        "change_nickname": 26,
        "manage_nicknames": 27,
        "manage_roles": 28,
        "manage_permissions": 28,
        "manage_webhooks": 29,
        "manage_expressions": 30,
        "manage_emojis": 30,
        "manage_emojis_and_stickers": 30,
        "use_application_commands": 31,
        "request_to_speak": 32,
        "manage_events": 33,
        "manage_threads": 34,
        "create_public_threads": 35,
        "create_private_threads": 36,
        "use_external_stickers": 37,
        "external_stickers": 37,
        "send_messages_in_threads": 38,
        "use_embedded_activities": 39,
        "moderate_members": 40,
        "view_creator_monetization_analytics": 41,
        "use_soundboard": 42,
        "create_expressions": 43,
        "create_events": 44,
        "use_external_sounds": 45,
        "send_voice_messages": 46,
        "set_voice_channel_status": 48,
        "send_polls": 49,
        "create_polls": 49,
        "use_external_apps": 50,
        "pin_messages": 51,
        "bypass_slowmode": 52,
    }
    return MappingProxyType({name: 1 << bit for name, bit in bits.items()})


@dataclass(frozen=True, slots=True)
class Permissions:
    """An immutable set of permission bits with the same layout as Discord's.

    ``Permissions(member.guild_permissions.value)`` converts a discord.py value losslessly.
    ``administrator`` implies every permission.

    Attributes:
        value: The raw bit field.
    """

    value: int = 0

    FLAGS: ClassVar[Mapping[str, int]] = _flags()

    @classmethod
    def from_names(cls, *names: str) -> Permissions:
        """Build a permission set from flag names, e.g. ``from_names("kick_members")``."""
        value = 0
        for name in names:
            value |= cls.flag(name)
        return cls(value)

    @classmethod
    def all(cls) -> Permissions:
        """Every known permission."""
        value = 0
        for bit in cls.FLAGS.values():
            value |= bit
        return cls(value)

    @classmethod
    def flag(cls, name: str) -> int:
        """The bit of one permission name; ValueError naming the valid names if unknown."""
        try:
            return cls.FLAGS[name]
        except KeyError:
            raise ValueError(
                f"Unknown permission name {name!r}; use one of Discord's names such as "
                "'administrator', 'manage_messages', 'moderate_members', 'kick_members'."
            ) from None

    @classmethod
    def check_names(cls, names: Iterable[str]) -> None:
        """Raise ValueError if any name is not a known permission."""
        for name in names:
            cls.flag(name)

    def has(self, *names: str) -> bool:
        """True if every named permission is granted (administrator grants all)."""
        if self.value & self.FLAGS["administrator"]:
            Permissions.check_names(names)
            return True
        return all(self.value & self.flag(name) for name in names)

    def missing(self, *names: str) -> tuple[str, ...]:
        """The names among ``names`` that are not granted."""
        return tuple(name for name in names if not self.has(name))

    def names(self) -> frozenset[str]:
        """Every flag name granted by this set (aliases included)."""
        return frozenset(name for name in self.FLAGS if self.has(name))
