"""Sending a voice message, which discord.py 2.7 has no API for.

A voice message is a message with flag ``IS_VOICE_MESSAGE`` (8192), no content, and exactly one
attachment ``voice-message.ogg`` (OGG/Opus) whose metadata carries ``duration_secs`` and
``waveform``. The request goes through discord.py's own HTTP client, so its rate limiting, retries
and authentication apply (``bot/shims/discord_internals.py``).
"""

from __future__ import annotations

import json
from typing import Any

import discord

from bot.shims.discord_internals import post_form
from bot.voice.speech import VoiceClip

VOICE_MESSAGE_FLAG = 1 << 13
VOICE_FILENAME = "voice-message.ogg"


def voice_message_form(
    clip: VoiceClip, *, reference: discord.MessageReference | None = None
) -> list[dict[str, Any]]:
    """The multipart form (``payload_json`` plus ``files[0]``) of a voice message."""
    payload: dict[str, Any] = {
        "flags": VOICE_MESSAGE_FLAG,
        "allowed_mentions": {"parse": [], "replied_user": False},
        "attachments": [
            {
                "id": 0,
                "filename": VOICE_FILENAME,
                "duration_secs": clip.duration_s,
                "waveform": clip.waveform,
            }
        ],
    }
    if reference is not None:
        payload["message_reference"] = reference.to_dict()
    return [
        {"name": "payload_json", "value": json.dumps(payload)},
        {
            "name": "files[0]",
            "value": clip.data,
            "filename": VOICE_FILENAME,
            "content_type": "audio/ogg",
        },
    ]


async def send_voice_message(
    http: discord.http.HTTPClient,
    channel_id: int,
    clip: VoiceClip,
    *,
    reference: discord.MessageReference | None = None,
) -> int:
    """Send ``clip`` as a voice message in ``channel_id``; return the new message's id.

    Raises:
        discord.HTTPException: Discord refused it (missing permission, rate limit, bad file).
    """
    form = voice_message_form(clip, reference=reference)
    sent = await post_form(http, "/channels/{channel_id}/messages", form, channel_id=channel_id)
    return int(sent["id"])
