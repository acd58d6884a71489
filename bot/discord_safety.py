"""What every message toolcord sends to Discord carries, so an answer cannot ping anyone."""

from __future__ import annotations

import discord

# Model output and user text are sent as is: no @everyone, role, user or reply pings.
NO_MENTIONS = discord.AllowedMentions.none()
