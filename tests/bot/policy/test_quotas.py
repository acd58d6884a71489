"""Token and image budgets: refusals with the renewal time, resets, reports, concurrency."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.conversation import IncomingTurn
from bot.engine import AnswerUsage as EngineUsage
from bot.policy.quotas import QuotaPolicy
from bot.policy.usage import BudgetLine, Subject, format_report, window_end, window_start
from bot.settings import QuotaSettings
from bot.store import Store, Usage
from bot.store.sqlite import SqliteStore

PAST = datetime(2020, 1, 15, 12, 30, tzinfo=UTC)  # rows the store writes now are all "after" it
GUILD = 500


def quotas(**values: Any) -> QuotaSettings:
    unlimited = {
        "user_daily_tokens": 0,
        "user_monthly_tokens": 0,
        "guild_daily_tokens": 0,
        "guild_monthly_tokens": 0,
        "global_daily_tokens": 0,
        "user_daily_images": 0,
        "user_monthly_images": 0,
        "guild_daily_images": 0,
        "guild_monthly_images": 0,
        "global_daily_images": 0,
    }
    return QuotaSettings(**{**unlimited, "max_turns_per_user": 0, **values})


def turn(number: int, user_id: int = 1, guild_id: int | None = GUILD, **extra: Any) -> IncomingTurn:
    return IncomingTurn(
        key=f"k{number}",
        user_id=user_id,
        user_name="u",
        channel_id=1,
        text="hi",
        source_message_id=number,
        guild_id=guild_id,
        **extra,
    )


async def spend(store: Store, tokens: int, user_id: int | None = 1, guild_id: int | None = GUILD):  # type: ignore[no-untyped-def]
    await store.record_usage(Usage("m", prompt_tokens=tokens), user_id=user_id, guild_id=guild_id)


def test_windows_are_utc_days_and_months() -> None:
    moment = datetime(2024, 12, 31, 23, 59, tzinfo=UTC)
    assert window_start("day", moment) == datetime(2024, 12, 31, tzinfo=UTC)
    assert window_end("day", moment) == datetime(2025, 1, 1, tzinfo=UTC)
    assert window_start("month", moment) == datetime(2024, 12, 1, tzinfo=UTC)
    assert window_end("month", moment) == datetime(2025, 1, 1, tzinfo=UTC)
    assert window_end("month", datetime(2024, 1, 31, tzinfo=UTC)) == datetime(
        2024, 2, 1, tzinfo=UTC
    )


async def test_a_spent_daily_budget_refuses_and_says_when_it_renews(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=1000), clock=lambda: PAST)
    assert await policy.before_turn(turn(1)) is None
    await spend(store, 1000)
    await policy.after_turn(turn(1), EngineUsage(1000, 0, 1), "m")
    refusal = await policy.before_turn(turn(2))
    assert refusal is not None and refusal.kind == "quota"
    renews = int(datetime(2020, 1, 16, tzinfo=UTC).timestamp())
    assert "daily budget of 1,000 tokens" in refusal.message
    assert f"<t:{renews}:R>" in refusal.message
    assert await policy.before_turn(turn(3, user_id=2)) is None  # another user is unaffected


async def test_the_latest_renewal_is_named_when_several_budgets_are_spent(store: Store) -> None:
    policy = QuotaPolicy(
        store, quotas(user_daily_tokens=100, user_monthly_tokens=100), clock=lambda: PAST
    )
    await spend(store, 100)
    refusal = await policy.before_turn(turn(1))
    assert refusal is not None and "monthly" in refusal.message
    assert f"<t:{int(datetime(2020, 2, 1, tzinfo=UTC).timestamp())}:f>" in refusal.message


async def test_guild_and_global_budgets(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(guild_daily_tokens=500, global_daily_tokens=800))
    await spend(store, 500, user_id=7)
    refusal = await policy.before_turn(turn(1, user_id=1))
    assert refusal is not None and refusal.message.startswith("This server has used")
    assert await policy.before_turn(turn(2, user_id=1, guild_id=None)) is None
    await policy.after_turn(turn(2, user_id=1, guild_id=None), EngineUsage(), "m")
    await spend(store, 300, user_id=8, guild_id=None)
    refusal = await policy.before_turn(turn(3, user_id=1, guild_id=None))
    assert refusal is not None and refusal.message.startswith("The bot has used its shared")


async def test_owners_are_exempt_from_user_budgets_but_not_the_global_one(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=10, global_daily_tokens=1000))
    await spend(store, 50, user_id=1)
    assert await policy.before_turn(turn(1, is_owner=True)) is None
    await policy.after_turn(turn(1, is_owner=True), EngineUsage(), "m")
    assert await policy.before_turn(turn(2)) is not None
    await spend(store, 1000, user_id=3)
    assert await policy.before_turn(turn(3, is_owner=True)) is not None
    strict = QuotaPolicy(store, quotas(user_daily_tokens=10, owners_exempt=False))
    assert await strict.before_turn(turn(4, is_owner=True)) is not None


async def test_disabled_quotas_admit_everything(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(enabled=False, global_daily_tokens=1))
    await spend(store, 100)
    assert await policy.before_turn(turn(1)) is None
    assert await policy.charge_images(1, None, 5) is None


async def test_an_admin_reset_starts_the_budget_afresh(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=100, guild_daily_tokens=100))
    await spend(store, 150)
    assert await policy.before_turn(turn(1)) is not None
    await policy.reset("user", 1)
    refusal = await policy.before_turn(turn(2))
    assert refusal is not None and refusal.message.startswith("This server")
    await policy.reset("guild", GUILD)
    assert await policy.before_turn(turn(3)) is None
    other_process = QuotaPolicy(store, quotas(user_daily_tokens=100, guild_daily_tokens=100))
    assert await other_process.before_turn(turn(4)) is None  # the marker is in the store


async def test_images_are_counted_exactly_and_can_be_refunded(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_images=3, global_daily_images=10))
    assert await policy.charge_images(1, GUILD, 2) is None
    refusal = await policy.charge_images(1, GUILD, 2)
    assert refusal is not None and "3 generated images" in refusal.message
    assert await policy.charge_images(1, GUILD, 1) is None
    assert await policy.charge_images(1, GUILD, 1) is not None
    await policy.refund_images(1, GUILD, 1)
    assert await policy.charge_images(1, GUILD, 1) is None
    totals = await store.usage_totals(user_id=1)
    assert totals.images == 3


async def test_the_report_lists_every_budget_with_what_is_left(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=1000, guild_monthly_images=5))
    await spend(store, 250)
    await policy.charge_images(1, GUILD, 2)
    lines = await policy.report(1, GUILD)
    by_key = {(line.subject.kind, line.window, line.unit): line for line in lines}
    assert by_key[("user", "day", "tokens")].remaining == 750
    assert by_key[("user", "month", "tokens")].remaining is None
    assert by_key[("guild", "month", "images")].used == 2
    assert by_key[("guild", "month", "images")].remaining == 3
    text = format_report(lines)
    assert "**You**" in text and "**This server**" in text and "750 left" in text
    assert all(line.subject.kind != "guild" for line in await policy.report(1, None))


def test_format_report_with_no_budgets() -> None:
    assert format_report([]) == "No budgets apply."
    line = BudgetLine(Subject("global"), "day", "tokens", 5, 0, PAST)
    assert "no limit" in format_report([line])


async def test_forgetting_a_user_keeps_the_months_spending(tmp_path: Path) -> None:
    """Issue 16: /forget-me wiped the month's usage; a user over budget was answered again."""
    moment = [datetime(2024, 4, 10, 12, tzinfo=UTC)]
    store = await SqliteStore.open(tmp_path / "dated.db", clock=lambda: moment[0])
    settings = quotas(user_monthly_tokens=1000, guild_monthly_tokens=5000)
    policy = QuotaPolicy(store, settings, clock=lambda: moment[0])
    moment[0] = datetime(2024, 3, 20, tzinfo=UTC)
    await spend(store, 4000)  # last month: anonymised by the forgetting
    moment[0] = datetime(2024, 4, 10, 12, tzinfo=UTC)
    await spend(store, 1200)  # earlier this month, not today
    moment[0] += timedelta(days=1)
    assert await policy.before_turn(turn(1)) is not None
    report = await policy.forget_user(1)
    refusal = await policy.before_turn(turn(2))
    user_rows = await store.usage_totals(user_id=1)
    march = await store.usage_totals(since=datetime(2024, 3, 1, tzinfo=UTC))
    await store.close()
    assert (report.usage_kept, report.usage_anonymised) == (1, 1)
    assert refusal is not None and refusal.message.startswith(
        "You have used your monthly budget of 1,000 tokens."
    )
    assert user_rows.total_tokens == 1200  # only this month's row still names the user
    assert march.total_tokens == 5200  # nothing left the ledger


async def test_a_reservation_that_never_settles_expires(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=1000, reserve_tokens=900), hold_s=0.2)
    assert await policy.before_turn(turn(1)) is None
    assert policy.running == 1
    # Nearly spent with one running: the next waits; the first never settles, so it expires.
    admitted = await asyncio.wait_for(policy.before_turn(turn(2)), 10)
    assert admitted is None and policy.running == 1


async def test_waiting_gives_up_at_its_deadline(store: Store) -> None:
    policy = QuotaPolicy(
        store, quotas(user_daily_tokens=1000, reserve_tokens=900), wait_s=0.1, hold_s=60
    )
    assert await policy.before_turn(turn(1)) is None
    refusal = await asyncio.wait_for(policy.before_turn(turn(2)), 10)
    assert refusal is not None and "still running" in refusal.message


async def run_concurrently(
    policy: QuotaPolicy, store: Store, count: int, cost: int, *, users: int = 1
) -> int:
    """``count`` turns at once, each costing ``cost``; returns how many were admitted."""

    async def one(number: int) -> bool:
        user_id = 1 + number % users
        incoming = turn(number, user_id=user_id)
        if await policy.before_turn(incoming) is not None:
            return False
        await asyncio.sleep(random.uniform(0, 0.03))
        await spend(store, cost, user_id=user_id)
        await policy.after_turn(incoming, EngineUsage(cost, 0, 1), "m")
        return True

    results = await asyncio.gather(*(one(number) for number in range(count)))
    return sum(results)


@pytest.mark.parametrize(
    ("limit", "cost", "reserve"), [(1000, 300, 300), (1000, 250, 400), (5000, 700, 1000)]
)
async def test_concurrent_turns_overshoot_a_user_budget_by_at_most_one_request(
    store: Store, limit: int, cost: int, reserve: int
) -> None:
    random.seed(limit + cost)
    policy = QuotaPolicy(store, quotas(user_daily_tokens=limit, reserve_tokens=reserve))
    admitted = await run_concurrently(policy, store, 40, cost)
    used = (await store.usage_totals(user_id=1)).total_tokens
    assert used == admitted * cost
    assert limit <= used <= limit + cost, (admitted, used)
    assert policy.running == 0


async def test_concurrent_users_overshoot_the_global_budget_by_at_most_one_request(
    store: Store,
) -> None:
    random.seed(7)
    policy = QuotaPolicy(store, quotas(global_daily_tokens=3000, reserve_tokens=400))
    admitted = await run_concurrently(policy, store, 60, 400, users=20)
    used = (await store.usage_totals()).total_tokens
    assert used == admitted * 400
    assert 3000 <= used <= 3400


async def test_the_estimate_follows_the_users_largest_recent_request(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(reserve_tokens=100))
    assert policy.estimate(1) == 100
    await policy.after_turn(turn(1), EngineUsage(700, 50, 1), "m")
    assert policy.estimate(1) == 750 and policy.estimate(2) == 100


async def test_one_user_runs_at_most_max_turns_per_user_at_once(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(max_turns_per_user=2), wait_s=0.2)
    assert await policy.before_turn(turn(1)) is None
    assert await policy.before_turn(turn(2)) is None
    busy = await policy.before_turn(turn(3))  # waits for one of them, then gives up
    assert busy is not None and (busy.kind, busy.message) == (
        "busy",
        "You already have 2 answers on the way; ask again when one is done.",
    )
    assert await policy.before_turn(turn(4, user_id=2)) is None  # others are not held up
    waiting = asyncio.create_task(policy.before_turn(turn(5)))
    await policy.after_turn(turn(1), EngineUsage(10, 5, 1), "m")
    assert await asyncio.wait_for(waiting, 10) is None  # admitted as soon as one ended
    assert policy.running == 3


async def test_each_round_is_admitted_with_what_the_turn_used_so_far(store: Store) -> None:
    """Issue 16: one admitted turn ran all its rounds past a spent budget."""
    policy = QuotaPolicy(store, quotas(global_daily_tokens=1000, reserve_tokens=100))
    assert await policy.before_turn(turn(1)) is None
    assert await policy.before_round(turn(1), 600) is None
    assert policy.estimate(1) == 600  # the user's largest recent round
    stopped = await policy.before_round(turn(1), 1000)
    assert stopped is not None and stopped.message.startswith(
        "The bot has used its shared daily budget of 1,000 tokens."
    )
    refused = await policy.before_turn(turn(2, user_id=2))  # the running turn's use counts
    assert refused is not None and refused.kind == "quota"
    await spend(store, 1000)
    await policy.after_turn(turn(1), EngineUsage(900, 100, 2), "m")
    assert policy.running == 0


def test_one_image_or_token_is_singular() -> None:
    lines = [
        BudgetLine(Subject("global"), "day", "images", 1, 0, PAST),
        BudgetLine(Subject("global"), "month", "images", 2, 0, PAST),
        BudgetLine(Subject("global"), "day", "tokens", 1, 0, PAST),
    ]
    assert format_report(lines).splitlines()[1:] == [
        "- 1 image today (no limit)",
        "- 2 images this month (no limit)",
        "- 1 token today (no limit)",
    ]


async def test_a_settled_turn_notes_its_last_round_not_its_whole_cost(store: Store) -> None:
    """The estimate is the user's largest recent round: a turn that used 600 in its first round
    and 1,000 in all notes 400 for its last round when it settles, not 1,000 (the release used
    to empty ``used`` before the cost was taken)."""
    policy = QuotaPolicy(store, quotas(global_daily_tokens=100_000, reserve_tokens=100))
    assert await policy.before_turn(turn(1)) is None
    assert await policy.before_round(turn(1), 600) is None
    assert policy.estimate(1) == 600
    await policy.after_turn(turn(1), EngineUsage(900, 100, 2), "m")
    assert policy.estimate(1) == 600
