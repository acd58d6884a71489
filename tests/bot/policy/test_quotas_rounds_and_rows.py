"""Budgets pinned exactly, continued: later rounds of a turn, the guild on every recorded row,
waiting at the boundaries, the refusal's catalogue key (written against mutmut's mutants of
bot/policy/quotas.py, docs/mutation.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.engine import AnswerUsage as EngineUsage
from bot.policy.quotas import QuotaPolicy
from bot.policy.usage import Subject
from bot.store import Store, Usage
from bot.store.sqlite import SqliteStore
from tests.bot.policy.test_quotas import GUILD, PAST, quotas, spend, turn
from tests.bot.policy.test_quotas_mutants import NEARLY_SPENT, CountingReads, _when

DAY_END = datetime(2020, 1, 16, tzinfo=UTC)
MONTH_END = datetime(2020, 2, 1, tzinfo=UTC)


# ------------------------------------------------------------------------ the refusal's key


async def test_a_token_refusal_names_its_catalogue_key_and_values(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=1234), clock=lambda: PAST)
    await spend(store, 1234)
    refusal = await policy.before_turn(turn(1))
    assert refusal is not None
    assert (refusal.key, refusal.values) == (
        "quota.spent.user.day.tokens",
        {"limit": "1,234", "renews": _when(DAY_END)},
    )


async def test_an_image_refusal_names_its_catalogue_key_and_values(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(guild_monthly_images=2000), clock=lambda: PAST)
    await store.record_usage(Usage("image", images=2000), user_id=2, guild_id=GUILD)
    refusal = await policy.charge_images(1, GUILD, 1)
    assert refusal is not None
    assert (refusal.key, refusal.values) == (
        "quota.spent.guild.month.images",
        {"limit": "2,000", "renews": _when(MONTH_END)},
    )


async def test_two_image_refusals_renewing_together_name_the_first(store: Store) -> None:
    policy = QuotaPolicy(
        store, quotas(user_daily_images=1, guild_daily_images=1), clock=lambda: PAST
    )
    assert await policy.charge_images(1, GUILD, 1) is None
    refusal = await policy.charge_images(1, GUILD, 1)
    assert refusal is not None and refusal.key == "quota.spent.user.day.images"


# ------------------------------------------------------------------------ the guild on every row

Record = Callable[[QuotaPolicy], Awaitable[None]]


async def _record_call(policy: QuotaPolicy) -> None:
    await policy.record_call(1, GUILD, "whisper", 900)


async def _charge_call(policy: QuotaPolicy) -> None:
    await policy.charge_call(1, GUILD, Usage("tts", prompt_tokens=400, completion_tokens=500))


async def _meter(policy: QuotaPolicy) -> None:
    await policy.meter(turn(1), "checker", 400, 500)


@pytest.mark.parametrize("record", [_record_call, _charge_call, _meter])
async def test_a_call_counts_for_its_guild_in_the_ledger_and_in_memory(
    store: Store, record: Record
) -> None:
    """Guild limit 1000, the last tenth read: 900 recorded + 1 asked is past 900, so it reads."""
    policy = QuotaPolicy(store, quotas(guild_daily_tokens=1000))
    counter = CountingReads(policy)
    assert await policy.admit_call(2, GUILD) is None  # the guild's total is read and kept
    await record(policy)
    assert (await store.usage_totals(guild_id=GUILD)).total_tokens == 900
    assert await policy.admit_call(3, GUILD) is None
    assert counter.reads == 2


async def test_a_settled_turn_counts_for_its_guild_in_memory(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(guild_daily_tokens=1000))
    counter = CountingReads(policy)
    assert await policy.admit_call(2, GUILD) is None
    await policy.after_turn(turn(1), EngineUsage(600, 300, 1), "m")
    assert await policy.admit_call(3, GUILD) is None
    assert counter.reads == 2


async def test_meter_counts_one_token_and_completions_alone(store: Store) -> None:
    policy = QuotaPolicy(store, quotas())
    await policy.meter(turn(1), "checker", 1, 0)
    await policy.meter(turn(1), "checker", 0, 5)
    await policy.meter(turn(1), "checker", 2, 7)
    totals = await store.usage_totals(user_id=1, guild_id=GUILD, model="checker")
    assert (totals.requests, totals.prompt_tokens, totals.completion_tokens) == (3, 3, 12)


async def test_a_call_is_admitted_by_one_token_by_default(store: Store) -> None:
    """899 spent of 1000: 1 more stays within the first 900 (from memory), 2 would not."""
    policy = QuotaPolicy(store, quotas(user_daily_tokens=1000))
    counter = CountingReads(policy)
    await spend(store, 899)
    assert await policy.admit_call(1, GUILD) is None
    assert await policy.admit_call(1, GUILD) is None
    assert counter.reads == 1


# ------------------------------------------------------------------------ resets and reports


async def test_a_reset_without_a_scope_is_of_id_zero(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=100))
    moment = await policy.reset("user")
    assert await policy.ledger.reset_marker(Subject("user", 0)) == moment
    assert await policy.ledger.reset_marker(Subject("user", 1)) is None


async def test_the_report_reads_each_window_apart(tmp_path: Path) -> None:
    moment = [datetime(2024, 4, 10, 12, tzinfo=UTC)]
    store = await SqliteStore.open(tmp_path / "dated.db", clock=lambda: moment[0])
    policy = QuotaPolicy(store, quotas(user_daily_tokens=1000), clock=lambda: moment[0])
    await spend(store, 300)  # earlier this month
    moment[0] += timedelta(days=1)
    await spend(store, 20)  # today
    lines = await policy.report(1, None)
    await store.close()
    assert [(line.window, line.unit, line.used) for line in lines] == [
        ("day", "tokens", 20),
        ("day", "images", 0),
        ("month", "tokens", 320),
        ("month", "images", 0),
    ]


# ------------------------------------------------------------------------ later rounds


async def test_a_later_round_counts_the_guilds_budget(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(guild_daily_tokens=1000, reserve_tokens=100))
    assert await policy.before_turn(turn(1)) is None
    await policy.record_call(2, GUILD, "whisper", 1000)
    stopped = await policy.before_round(turn(1), 0)
    assert stopped is not None and stopped.key == "quota.spent.guild.day.tokens"


async def test_a_later_round_of_an_exempt_owner_skips_their_user_budget(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(user_daily_tokens=100, reserve_tokens=10))
    assert await policy.before_turn(turn(1, is_owner=True)) is None
    await spend(store, 100)
    assert await policy.before_round(turn(1, is_owner=True), 0) is None
    owners_count = QuotaPolicy(
        store, quotas(user_daily_tokens=100, reserve_tokens=10, owners_exempt=False)
    )
    assert await owners_count.before_turn(turn(2, is_owner=True)) is not None


async def test_a_later_round_reserves_the_users_own_estimate(store: Store) -> None:
    """The user's rounds cost up to 500 (reserve 100): 401 used + 500 asked is past 900."""
    policy = QuotaPolicy(store, quotas(user_daily_tokens=1000, reserve_tokens=100))
    counter = CountingReads(policy)
    await policy.after_turn(turn(0), EngineUsage(500, 0, 1), "m")
    assert await policy.before_turn(turn(1)) is None
    assert counter.reads == 1
    assert await policy.before_round(turn(1), 400) is None  # 400 + 500 <= 900: from memory
    assert counter.reads == 1
    assert await policy.before_round(turn(1), 401) is None  # 401 + 500 > 900: read
    assert counter.reads == 2


async def test_an_admitted_round_holds_its_estimate_again(store: Store) -> None:
    policy = QuotaPolicy(store, quotas(guild_daily_tokens=1000, reserve_tokens=600), wait_s=0.05)
    assert await policy.before_turn(turn(1)) is None
    assert await policy.before_round(turn(1), 0) is None
    refusal = await policy.before_turn(turn(2, user_id=2))  # 600 held + 600 > 1000
    assert refusal is not None and refusal.message == NEARLY_SPENT


async def test_a_stopped_round_holds_nothing_more(store: Store) -> None:
    policy = QuotaPolicy(
        store,
        quotas(user_daily_tokens=100, guild_daily_tokens=1000, reserve_tokens=600),
        wait_s=0.05,
    )
    assert await policy.before_turn(turn(1)) is None
    await spend(store, 100, guild_id=None)  # user 1's budget, elsewhere
    stopped = await policy.before_round(turn(1), 0)
    assert stopped is not None and stopped.key == "quota.spent.user.day.tokens"
    assert await policy.before_turn(turn(2, user_id=2)) is None  # nothing held in the guild


async def test_a_later_round_waits_for_other_rounds_then_runs(store: Store) -> None:
    """Turn 2's round (300) is about to run: 500 used + 300 + 500 > 1000 waits for it, until its
    reservation expires (it never settles)."""
    policy = QuotaPolicy(store, quotas(guild_daily_tokens=1000, reserve_tokens=300), hold_s=1.0)
    assert await policy.before_turn(turn(2, user_id=2)) is None
    assert await policy.before_turn(turn(1)) is None
    admitted = await asyncio.wait_for(policy.before_round(turn(1), 500), 10)
    assert admitted is None


# ------------------------------------------------------------------------ waiting at the edges


async def test_a_pending_round_of_one_token_makes_others_wait(store: Store) -> None:
    """9 spent of 10: turn 1 holds 1; turn 2's 9 + 1 + 1 > 10 waits, and gives up."""
    policy = QuotaPolicy(store, quotas(guild_daily_tokens=10, reserve_tokens=1), wait_s=0.05)
    await spend(store, 9, user_id=3)
    assert await policy.before_turn(turn(1)) is None
    refusal = await policy.before_turn(turn(2, user_id=2))
    assert refusal is not None and refusal.message == NEARLY_SPENT


async def test_rounds_that_exactly_fill_the_budget_do_not_wait(store: Store) -> None:
    """8 spent of 10: turn 1 holds 1; turn 2's 8 + 1 + 1 == 10 fits, so it runs at once."""
    policy = QuotaPolicy(store, quotas(guild_daily_tokens=10, reserve_tokens=1), wait_s=0.05)
    await spend(store, 8, user_id=3)
    assert await policy.before_turn(turn(1)) is None
    assert await policy.before_turn(turn(2, user_id=2)) is None


async def test_a_wait_shorter_than_a_second_still_waits(store: Store) -> None:
    policy = QuotaPolicy(
        store, quotas(user_daily_tokens=1000, reserve_tokens=900), hold_s=0.2, wait_s=0.9
    )
    assert await policy.before_turn(turn(1)) is None
    assert await asyncio.wait_for(policy.before_turn(turn(2)), 10) is None  # turn 1 expired


async def test_a_wait_ends_right_after_the_reservation_expires(store: Store) -> None:
    """The wait is timed to the first expiry (plus 10 ms), not polled at a coarser interval."""
    policy = QuotaPolicy(
        store, quotas(user_daily_tokens=1000, reserve_tokens=900), hold_s=0.05, wait_s=10
    )
    loop = asyncio.get_running_loop()
    assert await policy.before_turn(turn(1)) is None
    started = loop.time()
    assert await asyncio.wait_for(policy.before_turn(turn(2)), 10) is None
    assert loop.time() - started < 0.8  # 0.05 s, with room for a busy machine


async def test_a_busy_user_is_admitted_once_a_turn_ends(store: Store) -> None:
    """Turn 1 never settles; turn 2 waits for it (busy) and runs once its reservation expires."""
    policy = QuotaPolicy(store, quotas(max_turns_per_user=1), hold_s=0.1, wait_s=10)
    assert await policy.before_turn(turn(1)) is None
    assert await asyncio.wait_for(policy.before_turn(turn(2)), 10) is None
    assert policy.running == 1


async def test_an_exempt_owners_turns_are_held_under_their_own_id(store: Store) -> None:
    """The owner's exempt turn counts as theirs: a turn of theirs that is not exempt sees it."""
    policy = QuotaPolicy(store, quotas(max_turns_per_user=1), wait_s=0.05)
    assert await policy.before_turn(turn(1, is_owner=True)) is None
    busy = await policy.before_turn(turn(2))
    assert busy is not None and busy.message == (
        "You already have 1 answers on the way; ask again when one is done."
    )
    assert (busy.key, busy.values) == ("quota.busy", {"running": 1})


class _Stop(Exception):
    """Ends a turn's first wait, once its length is known."""


def _first_wait(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []

    def stop(awaitable: Awaitable[object], seconds: float) -> None:
        awaitable.close()  # type: ignore[attr-defined]
        waits.append(seconds)
        raise _Stop

    monkeypatch.setattr(asyncio, "wait_for", stop)
    return waits


async def test_a_turn_waits_150_seconds_by_default(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = QuotaPolicy(store, quotas(max_turns_per_user=1))
    assert await policy.before_turn(turn(1)) is None
    waits = _first_wait(monkeypatch)
    with pytest.raises(_Stop):
        await policy.before_turn(turn(2))
    assert 149.9 < waits[0] <= 150.0


async def test_a_reservation_is_held_600_seconds_by_default(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waiting up to 1000 s, a busy turn first waits until the running one would expire."""
    policy = QuotaPolicy(store, quotas(max_turns_per_user=1), wait_s=1000)
    assert await policy.before_turn(turn(1)) is None
    waits = _first_wait(monkeypatch)
    with pytest.raises(_Stop):
        await policy.before_turn(turn(2))
    assert 599.9 < waits[0] <= 600.01
