"""Parallel turns against a small budget (issue 16): what they spend, and how many model calls.

N users mention the bot at once, each in their own channel. The fake model makes every turn
call a tool round after round (``rounds`` model requests per turn if nothing stops it), each
request reporting ``round_tokens``. Before issue 16 each turn reserved ``reserve_tokens`` once and
then ran all its rounds: 5 turns x 6 rounds x 10,000 tokens spent 300,000 of a 40,000 budget.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from bot.app import ToolcordBot
from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator, TextReply, ToolCall, ToolCallsReply
from tests.reliability.rig import ask, bot_messages, poll_until, settle

TOOL_MODULE = "tests.reliability.quota_tools"
NO_LIMIT = {
    "user_daily_tokens": 0,
    "user_monthly_tokens": 0,
    "guild_daily_tokens": 0,
    "guild_monthly_tokens": 0,
}


@dataclass(frozen=True)
class ParallelPlan:
    """``turns`` parallel mentions, ``rounds`` requests each, against ``budget`` global tokens."""

    turns: int = 5
    rounds: int = 6
    round_tokens: int = 10_000
    budget: int = 40_000
    reserve_tokens: int = 10_000

    @property
    def bound(self) -> int:
        """What the README promises: the budget overshot by at most one round, plus what each
        round running at once costs over its estimate (a user's first round is estimated at
        ``reserve_tokens``)."""
        over_estimate = max(0, self.round_tokens - self.reserve_tokens)
        return self.budget + self.round_tokens + self.turns * over_estimate


def many_rounds(plan: ParallelPlan) -> Any:
    """The fake model: a tool call per round until ``rounds`` requests, then an answer."""
    usage = {"prompt_tokens": plan.round_tokens - 100, "completion_tokens": 100}

    def reply(request: dict[str, Any]) -> Any:
        done = sum(1 for m in request["messages"] if m.get("role") == "tool")
        if done + 1 >= plan.rounds:
            return TextReply("all looked up", usage=usage)
        return ToolCallsReply([ToolCall("look_up", {"topic": f"t{done}"})], usage=usage)

    return reply


def settings_for(plan: ParallelPlan) -> dict[str, Any]:
    """Bot settings: quotas on with only the global budget, the probe tool, enough rounds."""
    return {
        "quotas": {
            "enabled": True,
            **NO_LIMIT,
            "global_daily_tokens": plan.budget,
            "reserve_tokens": plan.reserve_tokens,
        },
        "tools": {"modules": [TOOL_MODULE]},
        "chat": {"max_rounds": plan.rounds, "max_tool_calls": plan.rounds * 2},
    }


async def run_parallel_turns(
    discord: DiscordEmulator, openai: OpenAIEmulator, harness: BotHarness, plan: ParallelPlan
) -> dict[str, Any]:
    """Send the mentions at once; returns what was spent and how many model requests were made."""
    openai.chat.set_default(many_rounds(plan))
    users = [discord.add_user(f"spender{n}") for n in range(plan.turns)]
    channels = [discord.add_channel(discord.guild, f"spend-{n}") for n in range(plan.turns)]
    for user in users:
        discord.add_member(discord.guild, user)
    async with harness.run(**settings_for(plan)) as bot:
        await poll_until(lambda: all(bot.get_channel(c.id) for c in channels), 10)
        pairs = zip(channels, users, strict=True)
        await asyncio.gather(*(ask(discord, c, u, "look everything up") for c, u in pairs))
        await settle(bot, plan.turns)
        await _quotas_idle(bot)
        spent = (await bot.services.store.usage_totals()).total_tokens
    told = sum(
        1
        for channel in channels
        if any("daily budget of" in m.content for m in bot_messages(discord, channel))
    )
    return {
        "turns": plan.turns,
        "budget": plan.budget,
        "bound": plan.bound,
        "spent": spent,
        "overshoot": max(0, spent - plan.budget),
        "model_requests": len(openai.chat.requests),
        "turns_told_the_budget_is_spent": told,
    }


async def _quotas_idle(bot: ToolcordBot) -> None:
    quotas: Any = bot.services.quotas
    await poll_until(lambda: quotas.running == 0, 20)
