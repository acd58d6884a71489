"""What the composer sends: mentions typed as ``@name`` / ``#channel``, files and voice messages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.testing.discord import Channel, User

from .world import PlaygroundWorld

_USER_MENTION = re.compile(r"(?<![\w<@])@([\w.\-]{2,32})")
_CHANNEL_MENTION = re.compile(r"(?<![\w<#&])#([\w\-]{1,100})")
OGG_MAGIC = b"OggS"
WEBM_MAGIC = b"\x1a\x45\xdf\xa3"
BYTES_PER_SECOND_GUESS = 4_000
WAVEFORM_SAMPLES = 64


def _known_users(world: PlaygroundWorld, channel: Channel) -> list[User]:
    if channel.is_dm:
        return [world.bot, world.you]
    return [member.user for member in world.guild.members.values()]


def expand_mentions(text: str, world: PlaygroundWorld, channel: Channel) -> str:
    """``@name`` of a known user and ``#name`` of a guild channel in Discord's wire form."""
    users: dict[str, User] = {}
    for user in _known_users(world, channel):
        users[user.name.casefold()] = user
        if user.global_name:
            users.setdefault(user.global_name.casefold(), user)

    def user_mention(match: re.Match[str]) -> str:
        user = users.get(match.group(1).casefold())
        return f"<@{user.id}>" if user is not None else match.group(0)

    channels = {c.name.casefold(): c for c in world.guild.channels.values() if c.name}

    def channel_mention(match: re.Match[str]) -> str:
        found = channels.get(match.group(1).casefold())
        return f"<#{found.id}>" if found is not None else match.group(0)

    text = _USER_MENTION.sub(user_mention, text)
    return _CHANNEL_MENTION.sub(channel_mention, text)


def with_bot_mention(text: str, world: PlaygroundWorld) -> str:
    """``text`` starting with the bot's mention unless it mentions the bot already."""
    mention = f"<@{world.bot.id}>"
    if mention in text or f"<@!{world.bot.id}>" in text:
        return text
    return f"{mention} {text}".strip()


@dataclass(frozen=True)
class VoiceClip:
    """A recorded or uploaded voice message, named by what its bytes are."""

    filename: str
    content_type: str
    data: bytes
    duration_s: float
    waveform: bytes


def voice_clip(
    data: bytes, filename: str, content_type: str | None, duration_s: float | None
) -> VoiceClip:
    """A voice message from uploaded bytes (OGG or WebM recordings keep their real type)."""
    if data.startswith(OGG_MAGIC):
        name, kind = "voice-message.ogg", "audio/ogg"
    elif data.startswith(WEBM_MAGIC):
        name, kind = "voice-message.webm", "audio/webm"
    else:
        name, kind = filename or "voice-message.ogg", content_type or "application/octet-stream"
    duration = duration_s if duration_s and duration_s > 0 else len(data) / BYTES_PER_SECOND_GUESS
    return VoiceClip(name, kind, data, round(max(duration, 0.5), 2), _waveform(data))


def _waveform(data: bytes) -> bytes:
    """A waveform-shaped preview (Discord wants one byte per sample) from the bytes."""
    if not data:
        return bytes(WAVEFORM_SAMPLES)
    step = max(len(data) // WAVEFORM_SAMPLES, 1)
    return bytes(data[i * step % len(data)] for i in range(WAVEFORM_SAMPLES))
