"""Process-wide discord.py settings: the Discord endpoints, and voice-library warnings.

discord.py keeps these as class attributes, so they apply to the whole process; only the composition
root calls these, before the client starts. The class attributes are set in
``bot/shims/discord_internals.py``.
"""

from __future__ import annotations

from bot.settings import DiscordSettings
from bot.shims import discord_internals


def point_discord_at(settings: DiscordSettings) -> None:
    """Set discord.py's REST base, default gateway and CDN base from the settings."""
    discord_internals.point_discord_at(
        settings.api_base_url, settings.gateway_url, settings.cdn_base_url
    )


def quiet_voice_connection_warnings() -> None:
    """Drop discord.py's start-up warnings that PyNaCl and davey are missing.

    They are needed only to join voice channels, which toolcord never does; voice messages (audio
    attachments) work without them, so the warnings would only mislead an owner.
    """
    discord_internals.quiet_voice_connection_warnings()
