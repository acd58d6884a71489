"""Process-wide discord.py class attributes: the Discord endpoints, and voice-library warnings.

discord.py keeps these as class attributes, so they apply to the whole process; only the composition
root calls these, before the client starts.
"""

from __future__ import annotations

import discord
import discord.asset
import discord.gateway
import discord.http
import discord.voice_client
import yarl

from bot.settings import DiscordSettings


def point_discord_at(settings: DiscordSettings) -> None:
    """Set discord.py's REST base, default gateway and CDN base from the settings."""
    discord.http.Route.BASE = settings.api_base_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)
    discord.asset.Asset.BASE = settings.cdn_base_url


def quiet_voice_connection_warnings() -> None:
    """Drop discord.py's start-up warnings that PyNaCl and davey are missing.

    They are needed only to join voice channels, which toolcord never does; voice messages (audio
    attachments) work without them, so the warnings would only mislead an owner.
    """
    discord.voice_client.VoiceClient.warn_nacl = False
    discord.voice_client.VoiceClient.warn_dave = False
