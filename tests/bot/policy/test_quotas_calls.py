"""Calls made after a turn (spoken replies): admitted while budgets have room, then charged."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.policy.quotas import QuotaPolicy
from bot.settings import QuotaSettings
from bot.store import Store, Usage

PAST = datetime(2020, 1, 15, 12, 30, tzinfo=UTC)
GUILD = 500
LIMITS = {
    "user_daily_tokens": 1000,
    "user_monthly_tokens": 0,
    "guild_daily_tokens": 0,
    "guild_monthly_tokens": 0,
    "global_daily_tokens": 0,
}


async def test_a_charged_call_is_on_the_ledger_and_spends_the_budget(store: Store) -> None:
    policy = QuotaPolicy(store, QuotaSettings(**LIMITS), clock=lambda: PAST)
    assert await policy.admit_call(1, GUILD) is None
    await policy.charge_call(1, GUILD, Usage("gpt-realtime-2.1-mini", 300, 700))
    totals = await store.usage_totals(user_id=1, model="gpt-realtime-2.1-mini")
    assert (totals.requests, totals.prompt_tokens, totals.completion_tokens) == (1, 300, 700)
    refusal = await policy.admit_call(1, GUILD)
    assert refusal is not None and refusal.kind == "quota"
    assert refusal.message.startswith("You have used your daily budget of 1,000 tokens.")
    assert await policy.admit_call(2, GUILD) is None, "another user is unaffected"


async def test_owners_are_exempt_and_disabled_quotas_admit_everything(store: Store) -> None:
    policy = QuotaPolicy(store, QuotaSettings(**LIMITS), clock=lambda: PAST)
    await policy.charge_call(1, GUILD, Usage("m", 1000, 0))
    assert await policy.admit_call(1, GUILD, is_owner=True) is None
    off = QuotaPolicy(store, QuotaSettings(**LIMITS, enabled=False), clock=lambda: PAST)
    assert await off.admit_call(1, GUILD) is None
