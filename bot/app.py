"""The discord.py Bot subclass: holds the services it is given and loads the cogs in setup_hook."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord.ext import commands

from bot.conversation import ConversationService
from bot.delivery import EditPacer
from bot.discord_safety import NO_MENTIONS
from bot.i18n import Catalogue, CatalogueTranslator
from bot.observability.shards import shard_plan
from bot.services import BotServices, CoreServices
from bot.settings import Settings
from bot.store import InterruptedExchange
from bot.wiring import bot_services

log = logging.getLogger("toolcord")

EXTENSIONS = (
    "cogs.chat",
    "cogs.voice",
    "cogs.commands",
    "cogs.admin",
    "cogs.approval",
    "cogs.mcp",
    "cogs.observability",
    "cogs.knowledge",
)
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    read_message_history=True,
    attach_files=True,
    embed_links=True,
    manage_messages=True,
    moderate_members=True,
)


def intents_for(settings: Settings) -> discord.Intents:
    """The minimum intents the features need: guilds, messages in guilds and DMs."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.message_content = settings.discord.message_content_intent
    return intents


def invite_url(application_id: int) -> str:
    """The OAuth2 URL that adds the bot with the scopes and permissions it needs."""
    return discord.utils.oauth_url(
        application_id,
        permissions=INVITE_PERMISSIONS,
        scopes=("bot", "applications.commands"),
    )


class ToolcordBot(commands.AutoShardedBot):
    """toolcord's bot: Discord events in, the conversation service behind them.

    Sharded always: ``discord.shard_count`` and ``discord.shard_ids`` pick this process's shards
    (unset: every shard, as many as Discord recommends), so several processes can split a bot.

    Build it with the services the composition root made before it starts
    (``bot.wiring.open_bot``); it owns them from then on and closes them when it closes.
    """

    def __init__(
        self, settings: Settings, *, services: CoreServices, **client_options: Any
    ) -> None:
        shards = shard_plan(settings.discord)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents_for(settings),
            allowed_mentions=NO_MENTIONS,
            help_command=None,
            guild_ready_timeout=settings.discord.guild_ready_timeout,
            max_ratelimit_timeout=settings.discord.max_ratelimit_timeout,
            owner_ids=set(settings.discord.owner_ids) or None,
            shard_count=shards.count,
            shard_ids=list(shards.ids) if shards.ids is not None else None,  # type: ignore[arg-type]
            **client_options,
        )
        self.settings = settings
        self.pacer = EditPacer(
            settings.chat.edit_interval_s, forbidden_retry_s=settings.breaker.channel_pause_s
        )
        self.catalogue = Catalogue.load()  # the bot's own words, per locale (bot/i18n)
        self._core: CoreServices | None = services  # None once closed
        self.services: BotServices = bot_services(self, services)
        self.conversations = ConversationService(self.services)
        self.interrupted: list[InterruptedExchange] = []  # answers a restart cut off

    async def setup_hook(self) -> None:
        await self._report_interrupted()
        await self.tree.set_translator(CatalogueTranslator(self.catalogue))
        for extension in EXTENSIONS:
            await self.load_extension(extension)

    async def _report_interrupted(self) -> None:
        interrupted = await self.services.store.recover()
        if interrupted:
            log.warning("%d answers were interrupted by a restart", len(interrupted))
        self.interrupted[:] = interrupted

    async def on_message(self, message: discord.Message, /) -> None:
        """Prefix commands are not used: messages go to the chat cog's listener only."""

    async def close(self) -> None:
        """Let running answers finish (up to ``chat.shutdown_grace_s``), then disconnect."""
        if self._core is not None and not self.is_closed():
            await self.conversations.drain(self.settings.chat.shutdown_grace_s)
        await super().close()
        await self._close_services()

    async def _close_services(self) -> None:
        core, self._core = self._core, None
        if core is not None:
            await core.close()

    def describe(self) -> dict[str, Any]:
        """What this bot is set up to do (for `python -m bot check` and the logs)."""
        return describe_settings(self.settings)


def describe_settings(settings: Settings) -> dict[str, Any]:
    """A summary of what the bot would do with these settings, with no secret in it."""
    return {
        "discord_api": settings.discord.api_base_url,
        "gateway": settings.discord.gateway_url,
        "model_server": settings.openai.base_url or "https://api.openai.com/v1",
        "chat_model": settings.openai.chat_model,
        "api_dialect": settings.openai.resolved_dialect(),
        "store": settings.store_dsn() if not settings.store.dsn else "postgresql (DSN configured)",
        "tool_modules": settings.tools.modules,
        "message_content_intent": settings.discord.message_content_intent,
    }
