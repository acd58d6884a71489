"""Token and image budgets: a TurnPolicy that refuses a turn before any model call.

Budgets (``[quotas]`` settings): per user and per guild over the UTC day and month, and one global
daily budget. A turn is admitted while every budget that applies has room; it then holds a
reservation (an estimate of its cost) until ``after_turn`` settles it, when the ledger has the
tokens the server reported. Admission and reservation happen under one lock, so concurrent turns
see each other:

* a budget already spent refuses, with the time it renews;
* a budget with room for this turn's estimate on top of what is spent and reserved admits;
* a nearly spent budget admits a turn only when no other turn of it is running, and otherwise
  makes the turn wait for the running ones to settle.

So a budget is overshot by at most one request (the last one admitted), as long as requests do not
cost more than their estimate: the larger of ``reserve_tokens`` and the user's recent largest
request. Images are counted exactly, before they are generated (``charge_images``).

Reservations live in this process. Several processes on one PostgreSQL store share the ledger and
the reset markers, but each only sees its own running turns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from bot.policy.gate import Refusal
from bot.policy.usage import (
    BudgetLine,
    Clock,
    Spent,
    Subject,
    SubjectKind,
    UsageLedger,
    Window,
    discord_time,
    utcnow,
    window_end,
)
from bot.settings import QuotaSettings
from bot.store import Store, Usage

if TYPE_CHECKING:
    from bot.conversation import IncomingTurn
    from bot.engine import Usage as EngineUsage

log = logging.getLogger("toolcord.quotas")

Unit = Literal["tokens", "images"]
RECENT_COSTS = 5
MAX_TRACKED_USERS = 10_000


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


@dataclass
class _Reservation:
    user: Subject
    guild: Subject | None
    tokens: int
    expires_at: float

    def touches(self, subject: Subject) -> bool:
        return subject.kind == "global" or subject in (self.user, self.guild)


@dataclass(frozen=True)
class _Verdict:
    refusal: Refusal | None = None
    wait: bool = False


class QuotaPolicy:
    """Budgets for model tokens and images: a ``TurnPolicy``, and ``tool_services["quotas"]``.

    Args:
        store: the conversation store whose usage ledger the budgets count.
        settings: the ``[quotas]`` section.
        image_model: the model name written on image ledger rows.
        clock: the current time (UTC).
        hold_s: how long a reservation is held at most (a turn that never settles frees it then).
        wait_s: how long a turn waits for running turns near the end of a budget.
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
    ) -> None:
        self._settings = settings
        self._budgets = budgets_from(settings)
        self._ledger = UsageLedger(store, clock=clock)
        self._store = store
        self._image_model = image_model
        self._hold_s = hold_s
        self._wait_s = wait_s
        self._condition = asyncio.Condition()
        self._reservations: dict[tuple[str, int], _Reservation] = {}
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
        estimate = self.estimate(turn.user_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_s
        async with self._condition:
            while True:
                self._drop_expired(loop.time())
                verdict = await self._judge_tokens(subjects, estimate)
                if verdict.refusal is not None:
                    return verdict.refusal
                if not verdict.wait:
                    self._reserve(turn, subjects, estimate, loop.time())
                    return None
                if not await self._wait_for_settle(deadline):
                    return Refusal(
                        "quota",
                        "The budget is nearly spent and other requests are still running; "
                        "try again in a minute.",
                    )

    async def review_answer(self, turn: IncomingTurn, text: str) -> Refusal | None:
        return None

    async def after_turn(self, turn: IncomingTurn, usage: EngineUsage, model: str) -> None:
        """Settle the turn's reservation: the ledger now holds what it really cost."""
        cost = usage.prompt_tokens + usage.completion_tokens
        self._note_cost(turn.user_id, cost)
        async with self._condition:
            self._reservations.pop(_turn_key(turn), None)
            self._condition.notify_all()

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
        async with self._condition:
            refusal = await self._judge_images(subjects, n)
            if refusal is None:
                await self._store.record_usage(
                    Usage(model=self._image_model, images=n), user_id=user_id, guild_id=guild_id
                )
            return refusal

    async def refund_images(self, user_id: int, guild_id: int | None, n: int) -> None:
        """Give back images charged for a generation that failed."""
        if not self._settings.enabled or n <= 0:
            return
        await self._store.record_usage(
            Usage(model=self._image_model, images=-n), user_id=user_id, guild_id=guild_id
        )

    # -- a user who asks to be forgotten ----------------------------------------------------

    async def spent_today(self, user_id: int) -> Spent:
        """What a user spent today (read it before ``store.forget_user`` anonymises the ledger)."""
        now = self._ledger.now()
        return await self._ledger.spent(Subject("user", user_id), "day", now)

    async def keep_today(self, user_id: int, spent: Spent) -> None:
        """After ``forget_user``: one anonymous-content row so today's budget still holds.

        Without it, deleting one's data would also reset one's daily budget. The row holds only
        counts (no conversation, no guild); the guild totals keep the anonymised rows.
        """
        if spent.tokens <= 0 and spent.images <= 0:
            return
        await self._store.record_usage(
            Usage(model="carried-over", prompt_tokens=spent.tokens, images=spent.images),
            user_id=user_id,
            guild_id=None,
        )

    # -- admins and reports -----------------------------------------------------------------

    async def reset(self, kind: SubjectKind, scope_id: int = 0) -> datetime:
        """Start a user's, a guild's or the global budgets afresh from now."""
        subject = Subject(kind, scope_id if kind != "global" else 0)
        moment = await self._ledger.reset(subject)
        log.info("quota budgets of %s %s were reset", kind, subject.id)
        async with self._condition:
            self._condition.notify_all()
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
                BudgetLine(subject, budget.window, "tokens", spent.tokens, budget.tokens, renews)
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

    async def _judge_tokens(self, subjects: list[Subject], estimate: int) -> _Verdict:
        now = self._ledger.now()
        refusals: list[tuple[datetime, Refusal]] = []
        wait = False
        for budget, subject in self._applicable(subjects, "tokens"):
            spent = await self._ledger.spent(subject, budget.window, now)
            reserved = [r.tokens for r in self._reservations.values() if r.touches(subject)]
            if spent.tokens >= budget.tokens:
                renews = window_end(budget.window, now)
                refusals.append((renews, _refusal(budget, subject, "tokens", renews)))
            elif reserved and spent.tokens + sum(reserved) + estimate > budget.tokens:
                wait = True
        if refusals:
            return _Verdict(refusal=max(refusals, key=lambda item: item[0])[1])
        return _Verdict(wait=wait)

    async def _judge_images(self, subjects: list[Subject], n: int) -> Refusal | None:
        now = self._ledger.now()
        refusals: list[tuple[datetime, Refusal]] = []
        for budget, subject in self._applicable(subjects, "images"):
            spent = await self._ledger.spent(subject, budget.window, now)
            if spent.images + n > budget.images:
                renews = window_end(budget.window, now)
                refusals.append((renews, _refusal(budget, subject, "images", renews)))
        return max(refusals, key=lambda item: item[0])[1] if refusals else None

    def _reserve(
        self, turn: IncomingTurn, subjects: list[Subject], estimate: int, now: float
    ) -> None:
        user = next((s for s in subjects if s.kind == "user"), Subject("user", turn.user_id))
        guild = next((s for s in subjects if s.kind == "guild"), None)
        self._reservations[_turn_key(turn)] = _Reservation(
            user, guild, estimate, now + self._hold_s
        )

    def _drop_expired(self, now: float) -> None:
        expired = [key for key, r in self._reservations.items() if r.expires_at <= now]
        for key in expired:
            log.warning("a turn never settled its quota reservation; releasing it (%s)", key[0])
            del self._reservations[key]

    async def _wait_for_settle(self, deadline: float) -> bool:
        """Wait (lock released) until a turn settles or a reservation expires; False at deadline."""
        loop = asyncio.get_running_loop()
        remaining = deadline - loop.time()
        if remaining <= 0:
            return False
        soonest = min((r.expires_at for r in self._reservations.values()), default=deadline)
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
    return Refusal(
        "quota",
        f"{who} used {whose} {_PERIOD[budget.window]} budget of {what}. "
        f"It renews {discord_time(renews)}.",
    )
