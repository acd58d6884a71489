"""Budget totals kept in memory: admissions far from a limit do not query the ledger, usage
recorded elsewhere shows after the TTL (or at once near the end of a budget), and a new day or
month reads its totals afresh."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from bot.conversation import IncomingTurn
from bot.engine import AnswerUsage as EngineUsage
from bot.policy.quotas import QuotaPolicy
from bot.settings import QuotaSettings
from bot.store import Store, Usage, UsageTotals
from bot.store.sqlite import SqliteStore

GUILD = 500
TTL_S = 5.0
EVERY_TOKEN_BUDGET = {
    "user_daily_tokens": 10**9,
    "user_monthly_tokens": 10**9,
    "guild_daily_tokens": 10**9,
    "guild_monthly_tokens": 10**9,
    "global_daily_tokens": 10**9,
}


class CountingStore:
    """A store that counts the ledger sums asked of it (everything else goes straight through)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.sums = 0

    async def usage_totals(self, **filters: Any) -> UsageTotals:
        self.sums += 1
        return await self.inner.usage_totals(**filters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class FakeMonotonic:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def quotas(**values: Any) -> QuotaSettings:
    unlimited = {
        name: 0
        for name in (
            *EVERY_TOKEN_BUDGET,
            "user_daily_images",
            "user_monthly_images",
            "guild_daily_images",
            "guild_monthly_images",
            "global_daily_images",
        )
    }
    return QuotaSettings(**{**unlimited, "reserve_tokens": 100, "max_turns_per_user": 0, **values})


def policy_on(
    store: Store | CountingStore, settings: QuotaSettings, ticks: FakeMonotonic, **extra: Any
) -> QuotaPolicy:
    return QuotaPolicy(cast(Store, store), settings, totals_ttl_s=TTL_S, monotonic=ticks, **extra)


def turn(number: int, user_id: int = 1, guild_id: int | None = GUILD) -> IncomingTurn:
    return IncomingTurn(
        key=f"k{number}",
        user_id=user_id,
        user_name="u",
        channel_id=1,
        text="hi",
        source_message_id=number,
        guild_id=guild_id,
    )


async def answer(policy: QuotaPolicy, store: Store, incoming: IncomingTurn, cost: int) -> bool:
    """One turn as the conversation service runs it: admit, write its ledger row, settle."""
    if await policy.before_turn(incoming) is not None:
        return False
    await store.record_usage(
        Usage("m", prompt_tokens=cost), user_id=incoming.user_id, guild_id=incoming.guild_id
    )
    await policy.after_turn(incoming, EngineUsage(cost, 0, 1), "m")
    return True


async def test_repeated_admissions_read_each_total_once(store: Store) -> None:
    counting = CountingStore(store)
    policy = policy_on(counting, quotas(**EVERY_TOKEN_BUDGET), FakeMonotonic())
    assert await answer(policy, store, turn(1), 500)
    assert counting.sums == 5  # user and guild, day and month; global day
    for number in range(2, 30):
        assert await answer(policy, store, turn(number), 500)
    admitted = await asyncio.gather(*(policy.before_turn(turn(n)) for n in range(100, 150)))
    assert admitted == [None] * 50 and policy.running == 50
    assert counting.sums == 5


async def test_images_far_from_their_limit_are_charged_without_reading(store: Store) -> None:
    counting = CountingStore(store)
    policy = policy_on(counting, quotas(user_daily_images=100), FakeMonotonic())
    for _ in range(20):
        assert await policy.charge_images(1, GUILD, 2) is None
    await policy.refund_images(1, GUILD, 5)
    assert counting.sums == 1
    assert (await store.usage_totals(user_id=1)).images == 35


async def test_usage_recorded_by_another_process_shows_after_the_ttl(store: Store) -> None:
    ticks = FakeMonotonic()
    settings = quotas(user_daily_tokens=10_000, global_daily_tokens=100_000)
    here, there = policy_on(store, settings, ticks), policy_on(store, settings, ticks)
    assert await answer(here, store, turn(1), 1_000)
    assert await answer(there, store, turn(2), 8_000)  # the other process, same user
    await store.record_usage(Usage("m", prompt_tokens=1_000), user_id=1, guild_id=None)
    # Within the TTL this process trusts what it read and counted itself: 1,000 of 10,000.
    assert await here.before_turn(turn(3)) is None
    await here.after_turn(turn(3), EngineUsage(), "m")
    ticks.now += TTL_S
    refusal = await here.before_turn(turn(4))
    assert refusal is not None and "daily budget of 10,000 tokens" in refusal.message


async def test_near_the_end_of_a_budget_the_ledger_decides_at_once(store: Store) -> None:
    counting = CountingStore(store)
    ticks = FakeMonotonic()
    settings = quotas(global_daily_tokens=10_000)
    here, there = policy_on(counting, settings, ticks), policy_on(store, settings, ticks)
    assert await answer(here, store, turn(1), 8_900)
    reads = counting.sums
    assert await answer(here, store, turn(2, user_id=2), 100)  # 8,900 + 100 <= 9,000: no read
    assert counting.sums == reads
    assert await answer(there, store, turn(3, user_id=3), 1_000)
    # 9,000 + 100 is in the last tenth: no TTL passed, yet the ledger (10,000) decides.
    refusal = await here.before_turn(turn(4, user_id=4))
    assert counting.sums == reads + 1
    assert refusal is not None and refusal.message.startswith("The bot has used its shared")


async def test_a_turn_running_across_a_re_read_still_counts_when_it_settles(
    store: Store,
) -> None:
    ticks = FakeMonotonic()
    policy = policy_on(store, quotas(global_daily_tokens=10_000), ticks)
    first, second = turn(1, user_id=1), turn(2, user_id=2)
    assert await policy.before_turn(first) is None
    ticks.now += TTL_S
    assert await policy.before_turn(second) is None  # reads the ledger: the first wrote nothing
    await store.record_usage(Usage("m", prompt_tokens=10_000), user_id=1, guild_id=GUILD)
    await policy.after_turn(first, EngineUsage(10_000, 0, 1), "m")
    await policy.after_turn(second, EngineUsage(), "m")
    refusal = await policy.before_turn(turn(3, user_id=3))
    assert refusal is not None and refusal.message.startswith("The bot has used its shared")


async def test_a_forgotten_user_keeps_the_total_in_memory_too(store: Store) -> None:
    settings = quotas(user_daily_tokens=10_000, global_daily_tokens=10_000)
    policy = policy_on(store, settings, FakeMonotonic())
    for number in range(10):
        assert await answer(policy, store, turn(number), 1_000)
    assert (await policy.forget_user(1)).usage_kept == 10
    # The kept rows still count globally and for the user, in memory as in the ledger.
    refusal = await policy.before_turn(turn(11, user_id=2))
    assert refusal is not None and refusal.message.startswith("The bot has used its shared")
    refusal = await policy.before_turn(turn(12))
    assert refusal is not None and refusal.message.startswith("You have used your daily")


@pytest.fixture
async def dated(tmp_path: Path) -> AsyncIterator[tuple[Store, list[datetime]]]:
    """A store whose clock the test moves, starting ten minutes before April."""
    moment = [datetime(2024, 3, 31, 23, 50, tzinfo=UTC)]
    opened = await SqliteStore.open(tmp_path / "toolcord.db", clock=lambda: moment[0])
    yield opened, moment
    await opened.close()


async def test_a_budget_spent_yesterday_admits_today(
    dated: tuple[Store, list[datetime]],
) -> None:
    store, moment = dated
    policy = policy_on(
        store, quotas(user_daily_tokens=10_000), FakeMonotonic(), clock=lambda: moment[0]
    )
    assert await answer(policy, store, turn(1), 10_000)
    refusal = await policy.before_turn(turn(2))
    assert refusal is not None and "daily" in refusal.message
    moment[0] += timedelta(minutes=20)
    assert await policy.before_turn(turn(3)) is None


@pytest.mark.parametrize(
    ("budget", "period"), [("user_daily_tokens", "daily"), ("user_monthly_tokens", "monthly")]
)
async def test_a_new_window_reads_its_total_before_the_ttl(
    dated: tuple[Store, list[datetime]], budget: str, period: str
) -> None:
    store, moment = dated
    ticks = FakeMonotonic()  # never moves: only the new day and month make totals stale
    settings = quotas(**{budget: 10_000})
    here = policy_on(store, settings, ticks, clock=lambda: moment[0])
    there = policy_on(store, settings, ticks, clock=lambda: moment[0])
    assert await answer(here, store, turn(1), 1_000)  # March 31st: 1,000 of 10,000 here
    moment[0] += timedelta(minutes=20)  # April 1st: a new day and a new month
    assert await answer(there, store, turn(2), 10_000)
    refusal = await here.before_turn(turn(3))
    assert refusal is not None and f"{period} budget" in refusal.message


async def test_a_reset_reads_the_totals_afresh(dated: tuple[Store, list[datetime]]) -> None:
    store, moment = dated
    counting = CountingStore(store)
    policy = policy_on(
        counting, quotas(user_daily_tokens=10_000), FakeMonotonic(), clock=lambda: moment[0]
    )
    assert await answer(policy, store, turn(1), 3_000)
    assert await answer(policy, store, turn(2), 1_000)
    assert counting.sums == 1
    moment[0] += timedelta(minutes=1)
    await policy.reset("user", 1)
    moment[0] += timedelta(minutes=1)
    assert await answer(policy, store, turn(3), 1_000)
    assert counting.sums == 2
    lines = await policy.report(1, None)
    assert [line.used for line in lines if line.unit == "tokens"] == [1_000, 1_000]
