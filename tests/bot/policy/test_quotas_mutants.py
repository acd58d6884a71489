"""Budgets pinned exactly: every refusal text, the budget table, reports, estimates, the shortcut.

Written against the mutants mutmut made of bot/policy/quotas.py (docs/mutation.md).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.engine import AnswerUsage as EngineUsage
from bot.policy.quotas import (
    MAX_TRACKED_USERS,
    NEAR_END,
    RECENT_COSTS,
    Budget,
    QuotaPolicy,
    budgets_from,
)
from bot.policy.usage import BudgetLine, Subject
from bot.settings import QuotaSettings
from bot.store import Store, Usage
from tests.bot.policy.test_quotas import GUILD, PAST, quotas, spend, turn

DAY_END = datetime(2020, 1, 16, tzinfo=UTC)
MONTH_END = datetime(2020, 2, 1, tzinfo=UTC)


def _when(moment: datetime) -> str:
    seconds = int(moment.timestamp())
    return f"<t:{seconds}:f> (<t:{seconds}:R>)"


def test_the_constants() -> None:
    assert (RECENT_COSTS, MAX_TRACKED_USERS, NEAR_END) == (5, 10_000, 0.1)


def test_the_budgets_the_settings_define_in_order() -> None:
    settings = QuotaSettings(
        user_daily_tokens=1,
        user_daily_images=2,
        user_monthly_tokens=3,
        user_monthly_images=4,
        guild_daily_tokens=5,
        guild_daily_images=6,
        guild_monthly_tokens=7,
        guild_monthly_images=8,
        global_daily_tokens=9,
        global_daily_images=10,
    )
    assert budgets_from(settings) == [
        Budget("user", "day", 1, 2),
        Budget("user", "month", 3, 4),
        Budget("guild", "day", 5, 6),
        Budget("guild", "month", 7, 8),
        Budget("global", "day", 9, 10),
    ]
    assert (
        Budget("user", "day", 1, 2).limit("tokens"),
        Budget("user", "day", 1, 2).limit("images"),
    ) == (1, 2)


@pytest.mark.parametrize(
    ("setting", "who", "period", "renews"),
    [
        ("user_daily", "You have used your daily", "day", DAY_END),
        ("user_monthly", "You have used your monthly", "month", MONTH_END),
        ("guild_daily", "This server has used its daily", "day", DAY_END),
        ("guild_monthly", "This server has used its monthly", "month", MONTH_END),
        ("global_daily", "The bot has used its shared daily", "day", DAY_END),
    ],
)
async def test_every_budget_refuses_with_its_own_words(
    store: Store, setting: str, who: str, period: str, renews: datetime
) -> None:
    policy = QuotaPolicy(
        store, quotas(**{f"{setting}_tokens": 1234, f"{setting}_images": 2}), clock=lambda: PAST
    )
    await spend(store, 1234)
    refusal = await policy.before_turn(turn(1))
    assert refusal is not None and (refusal.kind, refusal.message) == (
        "quota",
        f"{who} budget of 1,234 tokens. It renews {_when(renews)}.",
    )
    assert await policy.charge_images(1, GUILD, 2) is None
    refused = await policy.charge_images(1, GUILD, 1)
    assert refused is not None and (refused.kind, refused.message) == (
        "quota",
        f"{who} budget of 2 generated images. It renews {_when(renews)}.",
    )
    assert policy.running == 0


async def test_an_image_refusal_names_the_latest_renewal(store: Store) -> None:
    policy = QuotaPolicy(
        store, quotas(user_daily_images=1, user_monthly_images=1), clock=lambda: PAST
    )
    assert await policy.charge_images(1, None, 1) is None
    refused = await policy.charge_images(1, None, 1)
    assert refused is not None and refused.message == (
        f"You have used your monthly budget of 1 generated images. It renews {_when(MONTH_END)}."
    )
    assert (await store.usage_totals(user_id=1)).images == 1  # nothing counted for the refusal


async def test_images_exactly_at_the_limit_are_allowed(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_images=3), clock=lambda: PAST)
    assert await policy.charge_images(1, GUILD, 3) is None
    assert await policy.charge_images(1, GUILD, 1) is not None
    totals = await store.usage_totals(user_id=1, model="image")
    assert (totals.requests, totals.images) == (1, 3)


async def test_zero_or_negative_images_do_nothing(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_images=1), clock=lambda: PAST)
    assert await policy.charge_images(1, GUILD, 0) is None
    await policy.refund_images(1, GUILD, 0)
    await policy.refund_images(1, GUILD, -2)
    assert (await store.usage_totals(user_id=1)).requests == 0
    await policy.refund_images(1, GUILD, 1)
    totals = await store.usage_totals(user_id=1, model="image")
    assert (totals.requests, totals.images) == (1, -1)


async def test_disabled_quotas_record_no_refund(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(enabled=False, user_daily_images=1))
    await policy.refund_images(1, GUILD, 1)
    assert (await store.usage_totals(user_id=1)).requests == 0
    assert await policy.before_round(turn(1), 10) is None


async def test_the_report_lists_each_budget_and_unit_exactly(store: Store) -> None:
    policy = QuotaPolicy(
        store,
        quotas(user_daily_tokens=1000, guild_monthly_images=5, global_daily_tokens=9),
        clock=lambda: PAST,
    )
    await store.record_usage(
        Usage("m", 200, 50, reasoning_tokens=20, tool_schema_tokens=30), user_id=1, guild_id=GUILD
    )
    await policy.charge_images(1, GUILD, 2)
    user, guild, world = Subject("user", 1), Subject("guild", GUILD), Subject("global")
    detail = {"reasoning_tokens": 20, "tool_schema_tokens": 30}
    assert await policy.report(1, GUILD, include_global=True) == [
        BudgetLine(user, "day", "tokens", 250, 1000, DAY_END, **detail),
        BudgetLine(user, "day", "images", 2, 0, DAY_END),
        BudgetLine(user, "month", "tokens", 250, 0, MONTH_END, **detail),
        BudgetLine(user, "month", "images", 2, 0, MONTH_END),
        BudgetLine(guild, "day", "tokens", 250, 0, DAY_END, **detail),
        BudgetLine(guild, "day", "images", 2, 0, DAY_END),
        BudgetLine(guild, "month", "tokens", 250, 0, MONTH_END, **detail),
        BudgetLine(guild, "month", "images", 2, 5, MONTH_END),
        BudgetLine(world, "day", "tokens", 250, 9, DAY_END, **detail),
        BudgetLine(world, "day", "images", 2, 0, DAY_END),
    ]
    only_guild = await policy.report(None, GUILD)
    assert [(line.subject, line.window, line.unit) for line in only_guild] == [
        (guild, "day", "tokens"),
        (guild, "day", "images"),
        (guild, "month", "tokens"),
        (guild, "month", "images"),
    ]


async def test_a_global_reset_ignores_the_scope_and_is_logged(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    policy = QuotaPolicy(store, quotas(global_daily_tokens=100))
    await spend(store, 100)
    assert await policy.before_turn(turn(1)) is not None
    with caplog.at_level(logging.INFO, logger="toolcord.quotas"):
        moment = await policy.reset("global", 77)
    assert isinstance(moment, datetime)
    assert await policy.ledger.reset_marker(Subject("global")) == moment
    assert [r.getMessage() for r in caplog.records] == ["quota budgets of global 0 were reset"]
    assert await policy.before_turn(turn(2)) is None


async def test_a_user_reset_names_the_user(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=100))
    with caplog.at_level(logging.INFO, logger="toolcord.quotas"):
        moment = await policy.reset("user", 5)
    assert await policy.ledger.reset_marker(Subject("user", 5)) == moment
    assert [r.getMessage() for r in caplog.records] == ["quota budgets of user 5 were reset"]


async def test_the_estimate_is_the_largest_of_the_last_five_costs(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(reserve_tokens=10))
    for number, cost in enumerate((900, 100, 200, 100, 100)):
        await policy.after_turn(turn(number), EngineUsage(cost, 0, 1), "m")
    assert policy.estimate(1) == 900
    await policy.after_turn(turn(9), EngineUsage(50, 5, 1), "m")  # the 900 drops out
    assert policy.estimate(1) == 200
    assert policy.estimate(2) == 10


async def test_the_estimate_never_goes_below_the_reserve(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(reserve_tokens=300))
    await policy.after_turn(turn(1), EngineUsage(100, 0, 1), "m")
    assert policy.estimate(1) == 300


async def test_costs_are_kept_for_the_most_recently_active_users_only(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(reserve_tokens=1))
    await policy.after_turn(turn(0, user_id=0), EngineUsage(50, 0, 1), "m")
    await policy.after_turn(turn(1, user_id=1), EngineUsage(60, 0, 1), "m")
    await policy.after_turn(turn(2, user_id=0), EngineUsage(40, 0, 1), "m")  # user 0 is recent
    for user_id in range(2, MAX_TRACKED_USERS + 1):
        await policy.after_turn(turn(3, user_id=user_id), EngineUsage(7, 0, 1), "m")
    assert policy.estimate(0) == 50  # kept, with both its costs
    assert policy.estimate(1) == 1  # the least recent user was forgotten
    assert policy.estimate(MAX_TRACKED_USERS) == 7


async def test_a_round_reported_lower_than_before_keeps_the_higher_count(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(reserve_tokens=1, user_daily_tokens=1000))
    assert await policy.before_turn(turn(1)) is None
    assert await policy.before_round(turn(1), 1000) is not None
    stopped = await policy.before_round(turn(1), 0)  # a retried loop counts from 0 again
    assert stopped is not None and stopped.message.startswith("You have used your daily budget")
    assert policy.estimate(1) == 1000


async def test_a_round_of_a_turn_never_admitted_here_is_not_held(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=10))
    await spend(store, 10)
    assert await policy.before_round(turn(1), 5) is None
    assert policy.running == 0


async def test_owners_exempt_from_user_budgets_are_not_limited_in_turns(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(max_turns_per_user=1), wait_s=0.05)
    assert await policy.before_turn(turn(1, is_owner=True)) is None
    assert await policy.before_turn(turn(2, is_owner=True)) is None
    assert policy.running == 2
    busy = await policy.before_turn(turn(3, user_id=2))
    assert busy is None
    busy = await policy.before_turn(turn(4, user_id=2))
    assert busy is not None and busy.message == (
        "You already have 1 answers on the way; ask again when one is done."
    )


async def test_a_turn_asking_again_is_not_counted_against_itself(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(max_turns_per_user=1), wait_s=0.05)
    assert await policy.before_turn(turn(1)) is None
    assert await policy.before_turn(turn(1)) is None
    assert policy.running == 1


async def test_no_turn_limit_when_it_is_zero(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(max_turns_per_user=0), wait_s=0.05)
    for number in range(3):
        assert await policy.before_turn(turn(number)) is None
    assert policy.running == 3


class CountingReads:
    """Counts the ledger reads a policy makes."""

    def __init__(self, policy: QuotaPolicy) -> None:
        self.reads = 0
        real = policy.ledger.spent

        async def spent(*args: Any) -> Any:
            self.reads += 1
            return await real(*args)

        policy.ledger.spent = spent  # type: ignore[method-assign]


@pytest.mark.parametrize(("spent", "reads"), [(700, 1), (701, 2)])
async def test_a_round_far_from_the_end_is_admitted_from_memory(
    store: Store, spent: int, reads: int
) -> None:
    """Limit 1000, the last tenth read the ledger: 700 spent + 100 held + 100 asked is 900."""
    policy = QuotaPolicy(store, quotas(user_daily_tokens=1000, reserve_tokens=100))
    counter = CountingReads(policy)
    await spend(store, spent)
    assert await policy.before_turn(turn(1)) is None
    assert counter.reads == 1
    assert await policy.before_turn(turn(2)) is None
    assert counter.reads == reads


@pytest.mark.parametrize(("near_end", "reads"), [(0.2, 1), (0.21, 2)])
async def test_the_near_end_share_is_a_setting(store: Store, near_end: float, reads: int) -> None:
    policy = QuotaPolicy(
        store, quotas(user_daily_tokens=1000, reserve_tokens=100), near_end=near_end
    )
    counter = CountingReads(policy)
    await spend(store, 600)
    assert await policy.before_turn(turn(1)) is None
    assert await policy.before_turn(turn(2)) is None
    assert counter.reads == reads


@pytest.mark.parametrize(("spent", "reads"), [(8, 1), (9, 2)])
async def test_images_far_from_the_end_are_charged_from_memory(
    store: Store, spent: int, reads: int
) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_images=10))
    counter = CountingReads(policy)
    await store.record_usage(Usage("image", images=spent - 1), user_id=1, guild_id=GUILD)
    assert await policy.charge_images(1, GUILD, 1) is None  # read: nothing kept yet
    assert await policy.charge_images(1, GUILD, 1) is None
    assert counter.reads == reads


async def test_a_transcription_is_admitted_from_memory_by_its_size(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=1000))
    counter = CountingReads(policy)
    assert await policy.admit_call(1, GUILD) is None
    assert counter.reads == 1
    assert await policy.admit_call(1, GUILD, 900) is None
    assert counter.reads == 1
    assert await policy.admit_call(1, GUILD, 901) is None
    assert counter.reads == 2


async def test_recorded_calls_count_in_the_ledger_and_in_memory(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=1000))
    assert await policy.admit_call(1, GUILD) is None
    await policy.record_call(1, GUILD, "whisper", 1000)
    totals = await store.usage_totals(user_id=1, model="whisper")
    assert (totals.requests, totals.prompt_tokens, totals.completion_tokens) == (1, 1000, 0)
    refusal = await policy.admit_call(1, GUILD)
    assert refusal is not None and refusal.message.startswith("You have used your daily budget")


async def test_meter_records_the_check_at_once_and_skips_nothing(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=1000, reserve_tokens=1))
    assert await policy.before_turn(turn(1)) is None
    await policy.meter(turn(1), "checker", 0, 0)
    assert (await store.usage_totals(user_id=1)).requests == 0
    await policy.meter(turn(1), "checker", 600, 400)
    totals = await store.usage_totals(user_id=1, model="checker")
    assert (totals.requests, totals.prompt_tokens, totals.completion_tokens) == (1, 600, 400)
    stopped = await policy.before_round(turn(1), 0)
    assert stopped is not None and stopped.message.startswith("You have used your daily budget")


async def test_an_owner_call_is_exempt_only_from_user_budgets(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=10, global_daily_tokens=1000))
    await spend(store, 10)
    assert await policy.admit_call(1, GUILD, is_owner=True) is None
    assert await policy.charge_images(1, GUILD, 1, is_owner=True) is None
    await policy.record_call(2, GUILD, "m", 990)
    refusal = await policy.admit_call(1, GUILD, is_owner=True)
    assert refusal is not None and refusal.message.startswith("The bot has used its shared")


NEARLY_SPENT = (
    "The budget is nearly spent and other requests are still running; try again in a minute."
)


async def test_a_running_turn_holds_its_estimate_against_its_guild(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(guild_daily_tokens=1000, reserve_tokens=600), wait_s=0.05)
    assert await policy.before_turn(turn(1, user_id=1)) is None
    refusal = await policy.before_turn(turn(2, user_id=2))
    assert refusal is not None and (refusal.kind, refusal.message) == ("quota", NEARLY_SPENT)
    assert await policy.before_turn(turn(3, user_id=3, guild_id=GUILD + 1)) is None
    assert policy.running == 2


async def test_a_running_turn_holds_its_estimate_against_its_user(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=1000, reserve_tokens=600), wait_s=0.05)
    assert await policy.before_turn(turn(1, guild_id=None)) is None
    refusal = await policy.before_turn(turn(2, guild_id=None))
    assert refusal is not None and refusal.message == NEARLY_SPENT
    assert await policy.before_turn(turn(3, user_id=2, guild_id=None)) is None


async def test_forgetting_a_user_drops_their_kept_totals(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=1000))
    counter = CountingReads(policy)
    assert await policy.admit_call(1, GUILD) is None
    assert await policy.admit_call(1, GUILD) is None
    assert counter.reads == 1
    await policy.forget_user(1)
    assert await policy.admit_call(1, GUILD) is None
    assert counter.reads == 2


async def test_a_reset_drops_the_kept_totals_of_that_subject_only(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=1000, guild_daily_tokens=1000))
    counter = CountingReads(policy)
    assert await policy.admit_call(1, GUILD) is None
    assert counter.reads == 2  # the user's and the guild's
    await policy.reset("guild", GUILD)
    assert await policy.admit_call(1, GUILD) is None
    assert counter.reads == 3  # the guild's again
    await policy.reset("user", 1)
    assert await policy.admit_call(1, GUILD) is None
    assert counter.reads == 4


async def test_a_refund_counts_in_the_kept_totals(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_images=10))
    counter = CountingReads(policy)
    assert await policy.charge_images(1, GUILD, 9) is None  # read: 0 kept, 9 now
    await policy.refund_images(1, GUILD, 9)
    assert await policy.charge_images(1, GUILD, 9) is None  # 0 + 9 <= 9: from memory
    assert counter.reads == 1


async def test_a_budget_of_one_token_is_a_budget(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=1), clock=lambda: PAST)
    await spend(store, 1)
    refusal = await policy.before_turn(turn(1))
    assert refusal is not None and refusal.message.startswith(
        "You have used your daily budget of 1 tokens."
    )


async def test_images_count_in_the_guilds_kept_total(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(guild_daily_images=10))
    counter = CountingReads(policy)
    assert await policy.charge_images(1, GUILD, 5) is None
    assert await policy.charge_images(2, GUILD, 4) is None  # 5 + 4 <= 9: from memory
    assert counter.reads == 1
    assert await policy.charge_images(3, GUILD, 1) is None  # 9 + 1 > 9: read
    assert counter.reads == 2


async def test_a_settled_turn_counts_in_the_guilds_kept_total(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(guild_daily_tokens=1000, reserve_tokens=100))
    counter = CountingReads(policy)
    assert await policy.before_turn(turn(1)) is None
    await spend(store, 801)
    await policy.after_turn(turn(1), EngineUsage(801, 0, 1), "m")
    assert await policy.before_turn(turn(2, user_id=2)) is None  # 801 + 100 > 900: read
    assert counter.reads == 2


async def test_a_turn_reserves_the_users_own_estimate(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=999, reserve_tokens=100), wait_s=0.05)
    await policy.after_turn(turn(1), EngineUsage(500, 0, 1), "m")
    assert await policy.before_turn(turn(2)) is None  # holds the user's 500, not the reserve
    refusal = await policy.before_turn(turn(3))  # 500 held + 500 more > 999
    assert refusal is not None and refusal.message == NEARLY_SPENT


async def test_kept_totals_are_trusted_for_the_ttl_given(store: Store) -> None:
    now = [100.0]
    policy = QuotaPolicy(
        store, quotas(user_daily_tokens=1000), totals_ttl_s=60.0, monotonic=lambda: now[0]
    )
    counter = CountingReads(policy)
    assert await policy.admit_call(1, GUILD) is None
    now[0] += 59.0
    assert await policy.admit_call(1, GUILD) is None
    assert counter.reads == 1
    now[0] += 2.0
    assert await policy.admit_call(1, GUILD) is None
    assert counter.reads == 2


async def test_reset_markers_are_trusted_by_the_monotonic_clock_given(store: Store) -> None:
    now = [100.0]
    policy = QuotaPolicy(store, quotas(user_daily_tokens=100), monotonic=lambda: now[0])
    other_process = QuotaPolicy(store, quotas(user_daily_tokens=100))
    await spend(store, 100)
    assert await policy.before_turn(turn(1)) is not None
    await other_process.reset("user", 1)
    assert await policy.before_turn(turn(2)) is not None  # the marker read is kept 30 s
    now[0] += 31.0
    assert await policy.before_turn(turn(3)) is None


async def test_a_refund_counts_in_the_guilds_kept_total(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(guild_daily_images=10))
    counter = CountingReads(policy)
    assert await policy.charge_images(1, GUILD, 9) is None
    await policy.refund_images(1, GUILD, 9)
    assert await policy.charge_images(2, GUILD, 9) is None  # 0 + 9 <= 9: from memory
    assert counter.reads == 1


async def test_an_owner_is_exempt_from_user_image_budgets(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_images=1))
    assert await policy.charge_images(1, GUILD, 5, is_owner=True) is None
    refused = await policy.charge_images(1, GUILD, 1)
    assert refused is not None and refused.message.startswith(
        "You have used your daily budget of 1 generated images."
    )
