"""The composition root's service wiring: what the bot's cogs, policies and tools are given.

``open_bot`` builds the services before the client starts and hands them to the bot's
constructor, which adds the parts that act through Discord (``bot_services``); everything else
receives the services it needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiohttp

from bot.approval import DiscordApprover
from bot.engine.breaker import breaker_from
from bot.engine.client import make_openai_client
from bot.errors import ConfigError
from bot.guild_settings import GuildSettings
from bot.knowledge.wiring import add_knowledge
from bot.moderation_actions import ModerationActions, ModerationLog
from bot.observability import BotMetrics, TurnMetrics, shard_of
from bot.observability.shards import process_name
from bot.policy import TurnPolicy
from bot.policy.moderation import ModerationPolicy, guild_config
from bot.policy.quotas import QuotaPolicy
from bot.services import BotServices, CoreServices
from bot.settings import Settings
from bot.store import TokenCounter, open_store
from bot.store.errors import make_data_folder
from tools.deps import ToolDeps
from tools.mcp import McpManager
from tools.registry import ToolRegistry
from tools.search.tool import PAGE_TEXT_WORKERS

if TYPE_CHECKING:
    from bot.app import ToolcordBot


def load_tools(settings: Settings) -> ToolRegistry:
    """The registry with every tool module the configuration names."""
    registry = ToolRegistry()
    for module in settings.tools.modules:
        registry.load_module(module)
    return registry


async def start_mcp(settings: Settings, registry: ToolRegistry) -> McpManager:
    """Start the configured MCP servers; their tools join ``registry`` as they are listed.

    Raises:
        ConfigError: If a server's ``env:NAME`` secret reference names an unset variable.
    """
    for server in settings.mcp.servers:
        try:
            server.resolved_env()
            server.resolved_headers()
        except LookupError as error:
            raise ConfigError(str(error.args[0])) from None
    manager = McpManager(
        settings.mcp.servers,
        registry,
        backoff_s=settings.mcp.reconnect_backoff_s,
        backoff_max_s=settings.mcp.reconnect_backoff_max_s,
        health_interval_s=settings.mcp.health_interval_s,
    )
    await manager.start(settings.mcp.start_wait_s)
    return manager


async def build_services(settings: Settings) -> CoreServices:
    """Open the store, start the MCP servers and build every service that needs no Discord.

    Called before the client starts (discord.py's ``examples/advanced_startup.py`` shape); the
    result goes to ``ToolcordBot(settings, services=...)``, which owns and closes it.
    """
    make_data_folder(settings.data_dir)
    store = await open_store(settings.store_dsn(), owner=process_name(settings.discord))
    registry = load_tools(settings)
    mcp = await start_mcp(settings, registry)
    api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    breaker = breaker_from(settings.breaker)
    client = make_openai_client(settings.openai, api_key, breaker=breaker)
    quotas = QuotaPolicy(
        store,
        settings.quotas,
        image_model=settings.openai.image_model,
        hold_s=settings.chat.turn_deadline_s * 2,
        totals_ttl_s=settings.quotas.totals_ttl_s,
        near_end=settings.quotas.near_end,
    )
    counter = TokenCounter()
    return CoreServices(
        settings=settings,
        store=store,
        client=client,
        registry=registry,
        counter=counter,
        http=aiohttp.ClientSession(trust_env=False),
        guild_settings=GuildSettings(store, settings, registry.names),
        quotas=quotas,
        mcp=mcp,
        knowledge=add_knowledge(settings, store, client, quotas, counter),
        page_text_slots=asyncio.Semaphore(PAGE_TEXT_WORKERS),
        provider_breaker=breaker,
    )


def bot_services(bot: ToolcordBot, core: CoreServices) -> BotServices:
    """``core`` with the parts that act through the Discord client (built in its constructor).

    The policy list is built here, once: the turn metrics first, the others wrapped by them so
    their refusals are counted.
    """
    settings = core.settings
    moderation = ModerationPolicy(
        core.client,
        model=settings.openai.moderation_model,
        rules_model=settings.moderation.rules_model or settings.openai.chat_model,
        config_source=guild_config(core.guild_settings.effective, settings.moderation),
        report=ModerationLog(bot),
        fail_closed=settings.moderation.fail_closed,
        meter=core.quotas.meter,
    )
    approver = DiscordApprover(bot, timeout_s=settings.tools.approval_timeout_s)
    actions = ModerationActions(bot)
    metrics = BotMetrics(shard_of=_shard_of(bot))
    turns = TurnMetrics(metrics)
    policies: list[TurnPolicy] = [turns, turns.watch(core.quotas), turns.watch(moderation)]
    tool_deps = ToolDeps(
        openai=core.client,
        quotas=core.quotas,
        approver=approver,
        moderation_actions=actions,
        page_text_slots=core.page_text_slots,
        knowledge=core.knowledge.tools,
    )
    return BotServices(
        settings=settings,
        store=core.store,
        client=core.client,
        registry=core.registry,
        counter=core.counter,
        http=core.http,
        tool_deps=tool_deps,
        policies=policies,
        observers=[turns],
        catalogue=bot.catalogue,
        context_sources=core.knowledge.context_sources,
        guild_settings=core.guild_settings,
        quotas=core.quotas,
        mcp=core.mcp,
        approver=approver,
        moderation_actions=actions,
        knowledge=core.knowledge.service,
        provider_breaker=core.provider_breaker,
        export_extras=core.knowledge.export,
        metrics=metrics,
        turn_metrics=turns,
    )


def _shard_of(bot: ToolcordBot) -> Callable[[int | None], int | None]:
    """The shard a guild's events arrive on, by the bot's shard count (None before it is known)."""

    def of(guild_id: int | None) -> int | None:
        count = bot.shard_count
        return shard_of(guild_id, count) if count else None

    return of


async def open_bot(settings: Settings, **client_options: Any) -> ToolcordBot:
    """Build the services, then the bot with them; the bot closes them when it closes."""
    from bot.app import ToolcordBot

    core = await build_services(settings)
    try:
        return ToolcordBot(settings, services=core, **client_options)
    except BaseException:
        await core.close()
        raise
