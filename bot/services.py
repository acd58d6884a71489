"""What the running bot holds: the conversation service's needs plus the cogs' services, typed.

The composition root (``bot/wiring.py``) builds them; cogs read them as attributes of
``bot.services`` (``bot.services.quotas``), never by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.approval import DiscordApprover
from bot.conversation import Services
from bot.guild_settings import GuildSettings
from bot.knowledge.export import KnowledgeExport
from bot.knowledge.service import KnowledgeService
from bot.moderation_actions import ModerationActions
from bot.observability import BotMetrics, TurnMetrics
from bot.policy.quotas import QuotaPolicy
from tools.mcp import McpManager
from tools.net import SafeFetcher


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
