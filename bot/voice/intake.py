"""Finding the audio in a Discord message and reading it within the caps."""

from __future__ import annotations

import dataclasses
import logging

import aiohttp
import discord

from bot.voice.audio import AudioClip, AudioLimits, check_declared, is_audio_name, validate
from bot.voice.failures import VoiceFailure

log = logging.getLogger("toolcord.voice")


def voice_attachment(message: discord.Message) -> discord.Attachment | None:
    """The recording of a voice message, or None if ``message`` is not one."""
    for attachment in message.attachments:
        if attachment.is_voice_message():
            return attachment
    if message.flags.voice and message.attachments:
        return message.attachments[0]
    return None


def audio_attachment(message: discord.Message) -> discord.Attachment | None:
    """The voice recording, else the first attachment that looks like audio, else None."""
    voice = voice_attachment(message)
    if voice is not None:
        return voice
    for attachment in message.attachments:
        if is_audio_name(attachment.filename, attachment.content_type):
            return attachment
    return None


async def read_audio(attachment: discord.Attachment, limits: AudioLimits) -> AudioClip:
    """Download and check ``attachment``: the size and duration Discord states are checked first.

    Raises:
        AudioRejected: empty, too large, too long or not audio.
        VoiceFailure: the download failed (kind "download").
    """
    check_declared(attachment.filename, attachment.size, attachment.duration, limits)
    try:
        data = await attachment.read()
    except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
        log.warning("downloading attachment %s failed: %s", attachment.id, exc)
        raise VoiceFailure(
            "download", "I could not download the recording from Discord; please send it again."
        ) from exc
    clip = validate(attachment.filename, data, limits)
    if clip.duration_s is None and attachment.duration is not None:
        clip = dataclasses.replace(clip, duration_s=float(attachment.duration))
    return clip
