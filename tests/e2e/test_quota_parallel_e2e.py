"""Issue 16, finding 3: parallel turns stay within the bound the README states.

Before: 5 mentions in 5 channels against a 40,000-token budget ran 30 model rounds (300,000).
"""

from __future__ import annotations

from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator
from tests.reliability.quota_parallel import ParallelPlan, run_parallel_turns


async def test_parallel_mentions_spend_at_most_the_budget_plus_one_round(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    plan = ParallelPlan()
    figures = await run_parallel_turns(discord_emulator, openai_emulator, bot_harness, plan)
    assert figures["spent"] <= plan.bound == 50_000
    assert figures["spent"] == figures["model_requests"] * plan.round_tokens
    assert figures["model_requests"] == 4  # the last fitting rounds, then every gate refuses
    assert figures["spent"] == 40_000
    assert figures["turns_told_the_budget_is_spent"] == plan.turns  # stopped or refused, said so


async def test_rounds_dearer_than_their_estimate_overshoot_by_the_difference_at_most(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    """First rounds estimated at 2,000 cost 10,000: every one running at once may overshoot."""
    plan = ParallelPlan(reserve_tokens=2_000)
    figures = await run_parallel_turns(discord_emulator, openai_emulator, bot_harness, plan)
    assert plan.bound == 40_000 + 10_000 + 5 * 8_000
    assert figures["spent"] <= plan.bound
    assert figures["spent"] == figures["model_requests"] * plan.round_tokens
    # Rounds run until the budget is spent (4 rounds at least); how many start before the first
    # rounds' costs are known depends on timing, but never more than the bound allows.
    assert 4 <= figures["model_requests"] <= plan.bound // plan.round_tokens
    assert figures["turns_told_the_budget_is_spent"] == plan.turns
