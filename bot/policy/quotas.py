"""Token and image budgets: a TurnPolicy that refuses a turn before any model call.

Budgets (``[quotas]`` settings): per user and per guild over the UTC day and month, and one global
daily budget. Every model round of a turn is admitted under one lock: the first in
``before_turn``, the others in ``before_round`` (the loop asks before each), so concurrent turns
see each other. A running turn holds a reservation: what its finished rounds cost (``used``, as
the server reported it) plus an estimate for the round about to run, until ``after_turn`` settles
it, when the ledger has the turn's row. For each budget that applies:

* spent (the ledger plus what running turns used) reaching the limit refuses, with the time it
  renews; a running turn stops before its next round;
* room for the round's estimate on top of that and of the other rounds about to run admits;
* otherwise the round runs only when no other round of the budget is about to run, and else
  waits for them to settle (``wait_s`` at most).

So a budget is overshot by at most one round, as long as rounds do not cost more than their
estimate (the larger of ``reserve_tokens`` and the user's largest recent round); each round
admitted at once that costs more adds the difference. One user runs at most
``max_turns_per_user`` turns at once (more wait, then are refused). Calls outside rounds count
too: the written-rules check (``meter``) and transcriptions (``admit_call``/``record_call``, refused
once a budget is spent). Images are counted exactly, before they are generated
(``charge_images``).

What each budget has spent is kept in memory (``RunningTotals``): read from the ledger once, moved
by the usage this process records (``after_turn``, images, ``meter``, ``record_call``), and read
again after ``totals_ttl_s`` or when its day or month ends. A round that clearly fits every budget
(its estimate on top of the kept total and the reservations stays below ``1 - near_end`` of the
limit) is admitted from memory, without awaiting anything. Otherwise (near the end of a budget, or a
total not kept or too old) the ledger is read, and the decision is made on it as it always was. The
kept total and the reservations together never count less than the ledger holds of this process's
usage (a turn whose row a read may already include is added again when it settles: an overcount,
corrected at the next read), so the shortcut admits nothing the ledger would refuse; it only skips
reads far from the limit.

Reservations live in this process. Several processes on one PostgreSQL store share the ledger and
the reset markers, but each only sees its own running turns, and sees the others' usage when it
reads the ledger: within ``totals_ttl_s``, and on every admission near the end of a budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from bot.policy.gate import Refusal, TurnPolicy
from bot.policy.reservations import Reservation, Reservations, ledger_subjects
from bot.policy.usage import (
    TOTALS_TTL_S,
    BudgetLine,
    Clock,
    Monotonic,
    RunningTotals,
    Spent,
    Subject,
    SubjectKind,
    UsageLedger,
    Window,
    discord_time,
    utcnow,
    window_end,
    window_start,
)
from bot.settings import QuotaSettings
from bot.store import ForgetReport, Store, Usage

if TYPE_CHECKING:
    from bot.conversation import IncomingTurn
    from bot.engine import AnswerUsage as EngineUsage

log = logging.getLogger("toolcord.quotas")

Unit = Literal["tokens", "images"]
RECENT_COSTS = 5
MAX_TRACKED_USERS = 10_000
NEAR_END = 0.1


@dataclass(frozen=True)
class Budget:
    """One configured budget: a subject kind, a window and its limits (0 = none)."""

    kind: SubjectKind
    window: Window
    tokens: int
    images: int

    def limit(self, unit: Unit) -> int:
        return self.tokens if unit == "tokens" else self.images


def budgets_from(settings: QuotaSettings) -> list[Budget]:
    """The budgets the settings define, user first, global last."""
    return [
        Budget("user", "day", settings.user_daily_tokens, settings.user_daily_images),
        Budget("user", "month", settings.user_monthly_tokens, settings.user_monthly_images),
        Budget("guild", "day", settings.guild_daily_tokens, settings.guild_daily_images),
        Budget("guild", "month", settings.guild_monthly_tokens, settings.guild_monthly_images),
        Budget("global", "day", settings.global_daily_tokens, settings.global_daily_images),
    ]


@dataclass(frozen=True)
class _Verdict:
    refusal: Refusal | None = None
    wait: bool = False


class QuotaPolicy(TurnPolicy):
    """Budgets for model tokens and images: a ``TurnPolicy`` and ``services.quotas``.

    Args:
        store: the conversation store whose usage ledger the budgets count.
        settings: the ``[quotas]`` section.
        image_model: the model name written on image ledger rows.
        clock: the current time (UTC).
        hold_s: how long a reservation is held at most (a turn that never settles frees it then).
        wait_s: how long a turn waits for running turns near the end of a budget.
        totals_ttl_s: how long a budget's total read from the ledger is trusted; usage other
            processes record on a shared store counts here within this many seconds.
        near_end: the last share of a budget in which every admission reads the ledger.
        monotonic: the clock of the TTLs (tests pass a fake one).
    """

    def __init__(
        self,
        store: Store,
        settings: QuotaSettings,
        *,
        image_model: str = "image",
        clock: Clock = utcnow,
        hold_s: float = 600.0,
        wait_s: float = 150.0,
        totals_ttl_s: float = TOTALS_TTL_S,
        near_end: float = NEAR_END,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self._settings = settings
        self._budgets = budgets_from(settings)
        self._ledger = UsageLedger(store, clock=clock, monotonic=monotonic)
        self._totals = RunningTotals(self._ledger, ttl_s=totals_ttl_s, monotonic=monotonic)
        self._store = store
        self._image_model = image_model
        self._hold_s = hold_s
        self._wait_s = wait_s
        self._near_end = near_end
        self._condition = asyncio.Condition()
        self._reservations = Reservations()
        self._recent: OrderedDict[int, deque[int]] = OrderedDict()

    @property
    def ledger(self) -> UsageLedger:
        return self._ledger

    @property
    def running(self) -> int:
        """Turns admitted and not settled yet."""
        return len(self._reservations)

    # -- TurnPolicy -------------------------------------------------------------------------

    async def before_turn(self, turn: IncomingTurn) -> Refusal | None:
        """Admit the turn and reserve its estimated cost, or refuse it (see the module doc)."""
        if not self._settings.enabled:
            return None
        subjects = self._subjects(turn.user_id, turn.guild_id, exempt=self._exempt(turn.is_owner))
        budgets = self._applicable(subjects, "tokens")
        estimate = self.estimate(turn.user_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_s
        async with self._condition:
            while True:
                self._reservations.drop_expired(loop.time())
                busy = self._busy_refusal(turn, subjects)
                if busy is None:
                    break
                if not await self._wait_for_settle(deadline):
                    return busy
            refusal = await self._admit(budgets, estimate, deadline)
            if refusal is None:
                self._reserve(turn, subjects, estimate, loop.time())
            return refusal

    async def before_round(self, turn: IncomingTurn, used: int) -> Refusal | None:
        """Admit the turn's next model round, or stop the turn (see the module doc).

        ``used`` is what the turn's rounds cost so far, as the server reported it: it counts
        against every budget of the turn from now on (the ledger has it once the turn ends).
        """
        if not self._settings.enabled:
            return None
        subjects = self._subjects(turn.user_id, turn.guild_id, exempt=self._exempt(turn.is_owner))
        budgets = self._applicable(subjects, "tokens")
        key = _turn_key(turn)
        loop = asyncio.get_running_loop()
        async with self._condition:
            reservation = self._reservations.get(key)
            if reservation is None:  # expired or never admitted here: nothing to hold
                return None
            used = max(used, reservation.used)  # a retried loop counts from 0 again
            self._note_cost(turn.user_id, used - reservation.used)
            self._reservations.hold(reservation, tokens=0, used=used)
            self._condition.notify_all()
            estimate = self.estimate(turn.user_id)
            refusal = await self._admit(budgets, estimate, loop.time() + self._wait_s)
            reservation = self._reservations.get(key)
            if refusal is None and reservation is not None:
                self._reservations.hold(reservation, tokens=estimate, used=used)
            return refusal

    async def _admit(
        self, budgets: list[tuple[Budget, Subject]], estimate: int, deadline: float
    ) -> Refusal | None:
        """Wait (lock held) until a round of ``estimate`` may run (None) or is refused."""
        loop = asyncio.get_running_loop()
        while True:
            self._reservations.drop_expired(loop.time())
            if self._fits_kept_totals(budgets, estimate, "tokens"):
                return None
            verdict = await self._judge_tokens(budgets, estimate)
            if verdict.refusal is not None or not verdict.wait:
                return verdict.refusal
            if not await self._wait_for_settle(deadline):
                return _NEARLY_SPENT

    def _busy_refusal(self, turn: IncomingTurn, subjects: list[Subject]) -> Refusal | None:
        """A refusal when the user already has ``max_turns_per_user`` turns running.

        ``before_turn`` waits (up to ``wait_s``) for one of them to end before refusing.
        """
        limit = self._settings.max_turns_per_user
        if limit <= 0 or not any(subject.kind == "user" for subject in subjects):
            return None
        running = self._reservations.running_for(turn.user_id, besides=_turn_key(turn))
        if running < limit:
            return None
        return Refusal(
            "busy",
            f"You already have {running} answers on the way; ask again when one is done.",
            key="quota.busy",
            values={"running": running},
        )

    async def review_answer(self, turn: IncomingTurn, text: str) -> Refusal | None:
        return None

    async def after_turn(self, turn: IncomingTurn, usage: EngineUsage, model: str) -> None:
        """Settle the turn's reservation: the ledger now holds what it really cost.

        The conversation service writes the turn's ledger row (``_conclude``) before calling
        this, for the turn's user and guild (exempt or not), so the kept totals count it here.
        """
        cost = usage.prompt_tokens + usage.completion_tokens
        async with self._condition:
            held = self._reservations.release(_turn_key(turn))
            self._note_cost(turn.user_id, cost - (held.used if held is not None else 0))
            if cost:
                self._totals.add(ledger_subjects(turn.user_id, turn.guild_id), tokens=cost)
            self._condition.notify_all()

    # -- model calls besides the turn's own rounds ----------------------------------------

    async def admit_call(
        self, user_id: int, guild_id: int | None, tokens: int = 1, *, is_owner: bool = False
    ) -> Refusal | None:
        """Whether a model call outside a turn (a transcription of ``tokens``, a spoken reply)
        may run now.

        Refused when a budget that applies is spent (the same refusal a turn gets); admitted
        otherwise, without a reservation: the call is counted by ``record_call`` or
        ``charge_call`` once made.
        """
        if not self._settings.enabled:
            return None
        subjects = self._subjects(user_id, guild_id, exempt=self._exempt(is_owner))
        budgets = self._applicable(subjects, "tokens")
        async with self._condition:
            if self._fits_kept_totals(budgets, tokens, "tokens"):
                return None
            return (await self._judge_tokens(budgets, tokens)).refusal

    async def record_call(
        self, user_id: int, guild_id: int | None, model: str, tokens: int
    ) -> None:
        """Count a call made outside a turn in the ledger and the kept totals."""
        await self.charge_call(user_id, guild_id, Usage(model, prompt_tokens=tokens))

    async def charge_call(self, user_id: int, guild_id: int | None, usage: Usage) -> None:
        """Write a call admitted by ``admit_call`` (with its reported usage) to the ledger and
        to the kept totals."""
        async with self._condition:
            await self._record_tokens(user_id, guild_id, usage)
            self._condition.notify_all()

    async def meter(
        self, turn: IncomingTurn, model: str, prompt_tokens: int, completion_tokens: int
    ) -> None:
        """Record a model call a turn made besides its chat rounds (the written-rules check).

        The ledger row and the kept totals count it at once, so the turn's next round (and
        every other admission) sees it.
        """
        cost = prompt_tokens + completion_tokens
        if cost <= 0:
            return
        async with self._condition:
            row = Usage(model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
            await self._record_tokens(turn.user_id, turn.guild_id, row)

    # -- images -----------------------------------------------------------------------------

    async def charge_images(
        self, user_id: int, guild_id: int | None, n: int, *, is_owner: bool = False
    ) -> Refusal | None:
        """Count ``n`` images against the budgets now, or refuse (nothing is counted then).

        Call it before generating; call ``refund_images`` if the generation then fails.
        """
        if not self._settings.enabled or n <= 0:
            return None
        subjects = self._subjects(user_id, guild_id, exempt=self._exempt(is_owner))
        budgets = self._applicable(subjects, "images")
        async with self._condition:
            refusal = None
            if not self._fits_kept_totals(budgets, n, "images"):
                refusal = await self._judge_images(budgets, n)
            if refusal is None:
                await self._record_images(user_id, guild_id, n)
            return refusal

    async def refund_images(self, user_id: int, guild_id: int | None, n: int) -> None:
        """Give back images charged for a generation that failed."""
        if not self._settings.enabled or n <= 0:
            return
        async with self._condition:
            await self._record_images(user_id, guild_id, -n)

    # -- a user who asks to be forgotten ----------------------------------------------------

    async def forget_user(self, user_id: int) -> ForgetReport:
        """Forget a user (``store.forget_user``) without forgetting what they spent.

        The usage rows of the current month (every budget window is within it) keep the user's
        id, stripped of their conversation and model, so the daily and monthly budgets, the
        guild's and the global one count exactly what they counted before; older rows lose the
        user. Kept totals are dropped, so the next admission reads the ledger again.
        """
        since = window_start("month", self._ledger.now())
        async with self._condition:
            report = await self._store.forget_user(user_id, keep_usage_since=since)
            self._totals.forget(Subject("user", user_id))
        return report

    # -- admins and reports -----------------------------------------------------------------

    async def reset(self, kind: SubjectKind, scope_id: int = 0) -> datetime:
        """Start a user's, a guild's or the global budgets afresh from now."""
        subject = Subject(kind, scope_id if kind != "global" else 0)
        async with self._condition:
            moment = await self._ledger.reset(subject)
            self._totals.forget(subject)
            self._condition.notify_all()
        log.info("quota budgets of %s %s were reset", kind, subject.id)
        return moment

    async def report(
        self, user_id: int | None, guild_id: int | None, *, include_global: bool = False
    ) -> list[BudgetLine]:
        """Usage against every budget of the given user and guild (and the global one)."""
        now = self._ledger.now()
        wanted = {
            "user": Subject("user", user_id) if user_id is not None else None,
            "guild": Subject("guild", guild_id) if guild_id is not None else None,
            "global": Subject("global") if include_global else None,
        }
        lines: list[BudgetLine] = []
        for budget in self._budgets:
            subject = wanted[budget.kind]
            if subject is None:
                continue
            spent = await self._ledger.spent(subject, budget.window, now)
            renews = window_end(budget.window, now)
            lines.append(
                BudgetLine(
                    subject,
                    budget.window,
                    "tokens",
                    spent.tokens,
                    budget.tokens,
                    renews,
                    reasoning_tokens=spent.reasoning_tokens,
                    tool_schema_tokens=spent.tool_schema_tokens,
                )
            )
            lines.append(
                BudgetLine(subject, budget.window, "images", spent.images, budget.images, renews)
            )
        return lines

    def estimate(self, user_id: int) -> int:
        """Tokens reserved for a user's next request."""
        recent = self._recent.get(user_id)
        return max(self._settings.reserve_tokens, max(recent) if recent else 0)

    # -- internals --------------------------------------------------------------------------

    def _exempt(self, is_owner: bool) -> bool:
        return is_owner and self._settings.owners_exempt

    def _subjects(self, user_id: int, guild_id: int | None, *, exempt: bool) -> list[Subject]:
        subjects = [Subject("global")]
        if not exempt:
            subjects.insert(0, Subject("user", user_id))
            if guild_id is not None:
                subjects.insert(1, Subject("guild", guild_id))
        return subjects

    def _applicable(self, subjects: list[Subject], unit: Unit) -> list[tuple[Budget, Subject]]:
        by_kind = {subject.kind: subject for subject in subjects}
        return [
            (budget, by_kind[budget.kind])
            for budget in self._budgets
            if budget.kind in by_kind and budget.limit(unit) > 0
        ]

    def _fits_kept_totals(
        self, budgets: list[tuple[Budget, Subject]], amount: int, unit: Unit
    ) -> bool:
        """Whether every budget clearly has room for ``amount`` by the kept totals alone."""
        now = self._ledger.now()
        for budget, subject in budgets:
            spent = self._totals.fresh(subject, budget.window, now)
            if spent is None or not self._far_from_end(budget, subject, spent, amount, unit):
                return False
        return True

    def _far_from_end(
        self, budget: Budget, subject: Subject, spent: Spent, amount: int, unit: Unit
    ) -> bool:
        """Whether ``amount`` on top of what is spent (and reserved) stays out of the end."""
        limit = budget.limit(unit)
        used = spent.tokens + self._reservations.held(subject) if unit == "tokens" else spent.images
        return used + amount <= limit - limit * self._near_end

    async def _spent(
        self, budget: Budget, subject: Subject, amount: int, unit: Unit, now: datetime
    ) -> Spent:
        """The kept total if it is fresh and far from the end, else the ledger's."""
        spent = self._totals.fresh(subject, budget.window, now)
        if spent is not None and self._far_from_end(budget, subject, spent, amount, unit):
            return spent
        return await self._totals.read(subject, budget.window, now)

    async def _judge_tokens(self, budgets: list[tuple[Budget, Subject]], estimate: int) -> _Verdict:
        now = self._ledger.now()
        refusals: list[tuple[datetime, Refusal]] = []
        wait = False
        for budget, subject in budgets:
            spent = await self._spent(budget, subject, estimate, "tokens", now)
            used = spent.tokens + self._reservations.used(subject)
            if used >= budget.tokens:
                renews = window_end(budget.window, now)
                refusals.append((renews, _refusal(budget, subject, "tokens", renews)))
            elif self._reservations.pending(subject) > 0 and (
                used + self._reservations.pending(subject) + estimate > budget.tokens
            ):
                wait = True
        if refusals:
            return _Verdict(refusal=max(refusals, key=lambda item: item[0])[1])
        return _Verdict(wait=wait)

    async def _judge_images(self, budgets: list[tuple[Budget, Subject]], n: int) -> Refusal | None:
        now = self._ledger.now()
        refusals: list[tuple[datetime, Refusal]] = []
        for budget, subject in budgets:
            spent = await self._spent(budget, subject, n, "images", now)
            if spent.images + n > budget.images:
                renews = window_end(budget.window, now)
                refusals.append((renews, _refusal(budget, subject, "images", renews)))
        return max(refusals, key=lambda item: item[0])[1] if refusals else None

    async def _record_tokens(self, user_id: int, guild_id: int | None, row: Usage) -> None:
        """Write a token row to the ledger and to the kept totals (lock held)."""
        await self._store.record_usage(row, user_id=user_id, guild_id=guild_id)
        tokens = row.prompt_tokens + row.completion_tokens
        self._totals.add(ledger_subjects(user_id, guild_id), tokens=tokens)

    async def _record_images(self, user_id: int, guild_id: int | None, n: int) -> None:
        """Write ``n`` images (negative: a refund) to the ledger and to the kept totals."""
        await self._store.record_usage(
            Usage(model=self._image_model, images=n), user_id=user_id, guild_id=guild_id
        )
        self._totals.add(ledger_subjects(user_id, guild_id), images=n)

    def _reserve(
        self, turn: IncomingTurn, subjects: list[Subject], estimate: int, now: float
    ) -> None:
        user = next((s for s in subjects if s.kind == "user"), Subject("user", turn.user_id))
        guild = next((s for s in subjects if s.kind == "guild"), None)
        reservation = Reservation(user, guild, 0, now + self._hold_s)
        self._reservations.reserve(_turn_key(turn), reservation, estimate)

    async def _wait_for_settle(self, deadline: float) -> bool:
        """Wait (lock released) until a turn settles or a reservation expires; False at deadline."""
        loop = asyncio.get_running_loop()
        remaining = deadline - loop.time()
        if remaining <= 0:
            return False
        first = self._reservations.first_expiry()
        soonest = deadline if first is None else first
        timeout = min(remaining, max(0.0, soonest - loop.time()) + 0.01)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._condition.wait(), timeout)
        return True

    def _note_cost(self, user_id: int, cost: int) -> None:
        recent = self._recent.pop(user_id, None) or deque(maxlen=RECENT_COSTS)
        recent.append(cost)
        self._recent[user_id] = recent
        while len(self._recent) > MAX_TRACKED_USERS:
            self._recent.popitem(last=False)


_NEARLY_SPENT = Refusal(
    "quota",
    "The budget is nearly spent and other requests are still running; try again in a minute.",
    key="quota.nearly_spent",
)


def _turn_key(turn: IncomingTurn) -> tuple[str, int]:
    return turn.key, turn.source_message_id


_WHO = {
    "user": ("You have", "your"),
    "guild": ("This server has", "its"),
    "global": ("The bot has", "its shared"),
}
_PERIOD = {"day": "daily", "month": "monthly"}


def _refusal(budget: Budget, subject: Subject, unit: Unit, renews: datetime) -> Refusal:
    who, whose = _WHO[subject.kind]
    limit = budget.limit(unit)
    what = f"{limit:,} tokens" if unit == "tokens" else f"{limit:,} generated images"
    renews_at = discord_time(renews)
    return Refusal(
        "quota",
        f"{who} used {whose} {_PERIOD[budget.window]} budget of {what}. It renews {renews_at}.",
        key=f"quota.spent.{subject.kind}.{budget.window}.{unit}",
        values={"limit": f"{limit:,}", "renews": renews_at},
    )
