"""What a Discord bot token says about its bot, read without asking Discord."""

from __future__ import annotations

import base64
import binascii


def application_id_from_token(token: str) -> int | None:
    """A bot token's first part is the bot's user id in base64 (equal to its application id)."""
    first = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(first + "=" * (-len(first) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(decoded) if decoded.isdigit() else None
