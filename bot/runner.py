"""Run the bot until it is stopped: logging, endpoints, the client, and clear start-up errors."""

from __future__ import annotations

import logging

import discord

from bot.app import ToolcordBot
from bot.discord_endpoints import point_discord_at
from bot.errors import ConfigError
from bot.logging_setup import configure_logging
from bot.model_lifecycle import Today, utc_today
from bot.models import check_models
from bot.observability import install_shard_logging, shard_label
from bot.settings import Settings

log = logging.getLogger("toolcord")


async def run_bot(
    settings: Settings, token: str, api_key: str, *, today: Today = utc_today
) -> None:
    """Connect to Discord and serve until closed; owner-actionable failures become ConfigError.

    A configured model that OpenAI has shut down is refused (ConfigError) before connecting;
    one that shuts down within 60 days is logged as a warning.
    """
    warnings = check_models(settings, today())
    configure_logging(settings.log_level, secrets=(token, api_key))
    for warning in warnings:
        log.warning("%s", warning)
    install_shard_logging(shard_label(settings.discord))
    point_discord_at(settings.discord)
    bot = ToolcordBot(settings)
    try:
        async with bot:
            await bot.start(token)
    except discord.LoginFailure:
        raise ConfigError(
            "Discord refused DISCORD_TOKEN: reset the token in the Developer Portal (Bot -> Reset "
            "Token) and put the new one in .env."
        ) from None
    except discord.PrivilegedIntentsRequired:
        raise ConfigError(
            "Discord refused the Message Content intent: enable it in the Developer Portal (Bot -> "
            "Privileged Gateway Intents) or set discord.message_content_intent = false."
        ) from None
