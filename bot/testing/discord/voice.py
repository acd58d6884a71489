"""Discord's rules for voice messages a bot sends (flag ``IS_VOICE_MESSAGE``, 8192).

A voice message carries no content, embeds, stickers, components or poll; exactly one file; and
that file's ``attachments`` entry states ``duration_secs`` (a positive number) and ``waveform``
(base64 of at most 256 bytes). Breaking a rule is answered with Discord's error codes 50159-50161.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from bot.testing.discord.rest_common import RestError, UploadedFile, error

VOICE_MESSAGE_FLAG = 1 << 13
MAX_WAVEFORM_BYTES = 256
_EXTRA_CONTENT = ("content", "embeds", "sticker_ids", "components", "poll")


def validate_voice_message(body: dict[str, Any], files: list[UploadedFile]) -> None:
    """Raise RestError when ``body`` has the voice flag but breaks a voice-message rule."""
    if not int(body.get("flags") or 0) & VOICE_MESSAGE_FLAG:
        return
    if any(body.get(key) for key in _EXTRA_CONTENT):
        raise RestError(error(400, 50159, "Voice messages do not support additional content."))
    if len(files) != 1:
        raise RestError(error(400, 50160, "Voice messages must have a single audio attachment."))
    if not _has_metadata(body.get("attachments"), files[0].index):
        raise RestError(error(400, 50161, "Voice messages must have supporting metadata."))


def _has_metadata(metas: Any, file_index: int) -> bool:
    if not isinstance(metas, list):
        return False
    meta = next(
        (m for m in metas if isinstance(m, dict) and str(m.get("id")) == str(file_index)), None
    )
    if meta is None:
        return False
    duration = meta.get("duration_secs")
    if isinstance(duration, bool) or not isinstance(duration, int | float) or duration <= 0:
        return False
    return _valid_waveform(meta.get("waveform"))


def _valid_waveform(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return 0 < len(decoded) <= MAX_WAVEFORM_BYTES
