"""Run the bot until it is stopped: logging, endpoints, the services, then the client.

Failures propagate as they are; the command line explains them (see bot.startup_failures).
"""

from __future__ import annotations

import logging

from bot.app import invite_url
from bot.discord_endpoints import point_discord_at, quiet_voice_connection_warnings
from bot.logging_setup import configure_logging
from bot.model_lifecycle import Today, utc_today
from bot.models import check_models
from bot.observability import install_shard_logging, shard_label
from bot.settings import Settings
from bot.wiring import open_bot

log = logging.getLogger("toolcord")


async def run_bot(
    settings: Settings,
    token: str,
    api_key: str,
    *,
    application_id: int | None = None,
    today: Today = utc_today,
) -> None:
    """Connect to Discord and serve until closed; logs the invite URL first, before connecting.

    A configured model that OpenAI has shut down is refused (ConfigError) before connecting;
    one that shuts down within 60 days is logged as a warning.
    """
    warnings = check_models(settings, today())
    configure_logging(settings.log_level, secrets=(token, api_key))
    for warning in warnings:
        log.warning("%s", warning)
    install_shard_logging(shard_label(settings.discord))
    if application_id is not None:
        log.info("invite the bot with: %s", invite_url(application_id))
    point_discord_at(settings.discord)
    quiet_voice_connection_warnings()
    bot = await open_bot(settings)  # the services first, then the client with them
    async with bot:
        await bot.start(token)
