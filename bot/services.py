"""What the running bot holds: the conversation service's needs plus the cogs' services, typed.

The composition root (``bot/wiring.py``) builds :class:`CoreServices` before the client starts
and hands them to ``ToolcordBot(settings, services=...)``, whose constructor adds the parts that
act through Discord; cogs read the result as attributes of ``bot.services``
(``bot.services.quotas``), never by name.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
import openai

from bot.approval import DiscordApprover
from bot.conversation import Services
from bot.engine.breaker import ProviderBreaker
from bot.guild_settings import GuildSettings
from bot.knowledge.export import KnowledgeExport
from bot.knowledge.service import KnowledgeService
from bot.knowledge.wiring import Knowledge
from bot.moderation_actions import ModerationActions
from bot.observability import BotMetrics, TurnMetrics
from bot.policy.quotas import QuotaPolicy
from bot.settings import Settings
from bot.store import Store, TokenCounter
from tools.mcp import McpManager
from tools.net import SafeFetcher
from tools.registry import ToolRegistry


@dataclass(frozen=True, kw_only=True)
class CoreServices:
    """The services that need no Discord client, built before it starts.

    Attributes:
        settings: The one Settings object.
        store: The conversation store (open).
        client: The OpenAI client.
        registry: The configured tools (MCP servers' tools join as they are listed).
        counter: Counts tokens for windows and estimates.
        http: The shared HTTP session (tools and inputs).
        guild_settings: The settings of guilds and channels.
        quotas: Token and image budgets.
        mcp: The MCP servers (started).
        knowledge: The knowledge service, its tools' side, export extras and context sources.
        page_text_slots: Bounds how many fetched pages have their text extracted at once.
        provider_breaker: The model client's provider breaker (None when switched off).
    """

    settings: Settings
    store: Store
    client: openai.AsyncOpenAI
    registry: ToolRegistry
    counter: TokenCounter
    http: aiohttp.ClientSession
    guild_settings: GuildSettings
    quotas: QuotaPolicy
    mcp: McpManager
    knowledge: Knowledge
    page_text_slots: asyncio.Semaphore
    provider_breaker: ProviderBreaker | None = None

    async def close(self) -> None:
        """Stop the MCP servers, close the model client, the store and the HTTP session."""
        try:
            await self.mcp.close()
            await self.client.close()
            await self.store.close()
        finally:
            await self.http.close()


@dataclass(kw_only=True)
class BotServices(Services):
    """Every service of the running bot (the tools' share is in ``tool_deps``).

    Attributes:
        guild_settings: The settings of guilds and channels.
        quotas: Token and image budgets (also the first of ``policies``).
        mcp: The MCP servers and their tools.
        approver: Asks for approval with Discord buttons (also ``tool_deps.approver``).
        moderation_actions: Performs approved moderation actions (also in ``tool_deps``).
        knowledge: The knowledge base, memories and summaries (``/knowledge``, ``/memory``).
        export_extras: Adds the knowledge a user owns to their ``/export`` document.
        metrics: This process's metrics (``/metrics``, served by ``cogs.observability``).
        turn_metrics: Counts turns and refusals: the first of ``policies`` (the others are
            wrapped by it) and an observer of every turn.
        image_link_fetcher: Fetches image links in messages with the bot's own policy; None:
            a fetcher with the configured policy per message.
    """

    guild_settings: GuildSettings
    quotas: QuotaPolicy
    mcp: McpManager
    approver: DiscordApprover
    moderation_actions: ModerationActions
    knowledge: KnowledgeService
    export_extras: KnowledgeExport
    metrics: BotMetrics
    turn_metrics: TurnMetrics
    image_link_fetcher: SafeFetcher | None = None
    provider_breaker: ProviderBreaker | None = None
