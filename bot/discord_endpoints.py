"""Point discord.py at the configured Discord endpoints (a REST proxy, or the test kit's emulator).

discord.py keeps these as class attributes, so they apply to the whole process; only the composition
root calls this, before the client starts.
"""

from __future__ import annotations

import discord
import discord.asset
import discord.gateway
import discord.http
import yarl

from bot.settings import DiscordSettings


def point_discord_at(settings: DiscordSettings) -> None:
    """Set discord.py's REST base, default gateway and CDN base from the settings."""
    discord.http.Route.BASE = settings.api_base_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)
    discord.asset.Asset.BASE = settings.cdn_base_url
