"""The usage ledger as budgets see it: windows, subjects, totals since a reset, and reports.

A budget counts the ledger rows (tokens the model server reported, images generated) of one
subject (a user, a guild, or everyone) in one window (the current UTC day or month), from the
window's start or from the moment an admin reset the subject's budget, whichever is later. Reset
markers are stored as settings (scope ``quota_reset_<kind>``) so every process sees them.

``RunningTotals`` keeps those sums in memory so admitting a turn need not query the ledger: a
total is read once, moved by what this process records, and read again after a short TTL (so
usage other processes record on a shared store shows within it) or when its window ends.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bot.store import Store

Window = Literal["day", "month"]
SubjectKind = Literal["user", "guild", "global"]
Clock = Callable[[], datetime]
Monotonic = Callable[[], float]

RESET_SCOPE_PREFIX = "quota_reset_"
RESET_KEY = "reset_at_ms"
MARKER_TTL_S = 30.0
TOTALS_TTL_S = 5.0
MAX_TOTALS = 20_000
WINDOWS: tuple[Window, ...] = ("day", "month")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def window_start(window: Window, now: datetime) -> datetime:
    """When the current day or month began (UTC)."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day if window == "day" else day.replace(day=1)


def window_end(window: Window, now: datetime) -> datetime:
    """When the current day or month ends, i.e. when its budget renews (UTC)."""
    start = window_start(window, now)
    if window == "day":
        return start + timedelta(days=1)
    return (start + timedelta(days=32)).replace(day=1)


def discord_time(moment: datetime) -> str:
    """A Discord timestamp that every reader sees in their own time zone, with "in 3 hours"."""
    seconds = int(moment.timestamp())
    return f"<t:{seconds}:f> (<t:{seconds}:R>)"


@dataclass(frozen=True)
class Subject:
    """Whose usage a budget counts: one user, one guild, or everyone (``id`` 0)."""

    kind: SubjectKind
    id: int = 0

    @property
    def reset_scope(self) -> str:
        return RESET_SCOPE_PREFIX + self.kind


@dataclass(frozen=True)
class Spent:
    """Tokens and images a subject spent in a window.

    ``reasoning_tokens`` and ``tool_schema_tokens`` are details inside ``tokens`` (shown by
    ``/usage``); budgets count ``tokens`` alone.
    """

    tokens: int = 0
    images: int = 0
    reasoning_tokens: int = 0
    tool_schema_tokens: int = 0


@dataclass(frozen=True)
class BudgetLine:
    """One row of a usage report: what a subject spent of one budget in one window."""

    subject: Subject
    window: Window
    unit: Literal["tokens", "images"]
    used: int
    limit: int
    renews_at: datetime
    reasoning_tokens: int = 0  # of ``used``, for a tokens line
    tool_schema_tokens: int = 0  # of ``used``, for a tokens line

    @property
    def remaining(self) -> int | None:
        """What is left, or None when the budget has no limit."""
        return None if self.limit <= 0 else max(0, self.limit - self.used)


class UsageLedger:
    """Reads the store's usage ledger per subject and window, and keeps the reset markers.

    Args:
        store: the conversation store (its ``usage_totals`` and settings).
        clock: the current time (tests pass a fixed one).
        marker_ttl_s: how long a reset marker read from the store is trusted (another process
            may reset a budget; this process sees it within this many seconds).
        monotonic: the clock of that TTL.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = utcnow,
        marker_ttl_s: float = MARKER_TTL_S,
        monotonic: Monotonic = time.monotonic,
    ):
        self._store = store
        self._clock = clock
        self._marker_ttl_s = marker_ttl_s
        self._monotonic = monotonic
        self._markers: dict[Subject, tuple[float, datetime | None]] = {}

    def now(self) -> datetime:
        return self._clock()

    async def spent(self, subject: Subject, window: Window, now: datetime) -> Spent:
        """What ``subject`` spent since its window began (or since its last reset)."""
        since = window_start(window, now)
        marker = await self.reset_marker(subject)
        if marker is not None and marker > since:
            since = marker
        totals = await self._store.usage_totals(
            user_id=subject.id if subject.kind == "user" else None,
            guild_id=subject.id if subject.kind == "guild" else None,
            since=since,
        )
        return Spent(
            tokens=totals.total_tokens,
            images=totals.images,
            reasoning_tokens=totals.reasoning_tokens,
            tool_schema_tokens=totals.tool_schema_tokens,
        )

    async def reset_marker(self, subject: Subject) -> datetime | None:
        """When an admin last reset this subject's budgets, or None."""
        cached = self._markers.get(subject)
        if cached is not None and self._monotonic() < cached[0]:
            return cached[1]
        data = await self._store.get_settings(subject.reset_scope, subject.id)
        value = data.get(RESET_KEY)
        marker = datetime.fromtimestamp(value / 1000, UTC) if isinstance(value, int) else None
        self._remember(subject, marker)
        return marker

    async def reset(self, subject: Subject) -> datetime:
        """Start this subject's budgets afresh from now; returns the reset time."""
        now = self._clock()
        await self._store.set_settings(
            subject.reset_scope, subject.id, {RESET_KEY: int(now.timestamp() * 1000)}
        )
        self._remember(subject, now)
        return now

    def _remember(self, subject: Subject, marker: datetime | None) -> None:
        if len(self._markers) > 10_000:
            self._markers.clear()
        self._markers[subject] = (self._monotonic() + self._marker_ttl_s, marker)


@dataclass
class _Total:
    """A subject's spending in one window as read from the ledger, plus what was added since."""

    tokens: int
    images: int
    starts: datetime
    ends: datetime
    expires: float


class RunningTotals:
    """What each subject spent in its current windows, kept in memory between ledger reads.

    A total is read from the ledger (``read``), then moved by ``add`` as this process records
    usage, and trusted (``fresh``) until ``ttl_s`` passed or its window ended; a read replaces
    it entirely. Callers serialise reads and changes (``QuotaPolicy`` holds its lock): a change
    made while a read is awaited could be lost or counted twice.

    Args:
        ledger: where totals are read.
        ttl_s: how long a total read from the ledger is trusted (usage other processes record
            on a shared store shows within it).
        monotonic: the clock of that TTL.
        max_entries: totals kept at most; the oldest reads are dropped first.
    """

    def __init__(
        self,
        ledger: UsageLedger,
        *,
        ttl_s: float = TOTALS_TTL_S,
        monotonic: Monotonic = time.monotonic,
        max_entries: int = MAX_TOTALS,
    ) -> None:
        self._ledger = ledger
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._max_entries = max_entries
        self._totals: OrderedDict[tuple[Subject, Window], _Total] = OrderedDict()

    def fresh(self, subject: Subject, window: Window, now: datetime) -> Spent | None:
        """The total if it is known, younger than the TTL and of the window ``now`` is in."""
        total = self._totals.get((subject, window))
        if total is None or not total.starts <= now < total.ends:
            return None
        if self._monotonic() >= total.expires:
            return None
        return Spent(total.tokens, total.images)

    async def read(self, subject: Subject, window: Window, now: datetime) -> Spent:
        """Read the total from the ledger, replacing what was kept."""
        spent = await self._ledger.spent(subject, window, now)
        key = (subject, window)
        self._totals.pop(key, None)
        self._totals[key] = _Total(
            spent.tokens,
            spent.images,
            window_start(window, now),
            window_end(window, now),
            self._monotonic() + self._ttl_s,
        )
        self._trim()
        return spent

    def add(self, subjects: Iterable[Subject], *, tokens: int = 0, images: int = 0) -> None:
        """Count usage this process recorded in the kept totals of these subjects."""
        for subject in subjects:
            for window in WINDOWS:
                total = self._totals.get((subject, window))
                if total is not None:
                    total.tokens += tokens
                    total.images += images

    def forget(self, subject: Subject) -> None:
        """Drop a subject's totals: the next admission reads them from the ledger."""
        for window in WINDOWS:
            self._totals.pop((subject, window), None)

    def _trim(self) -> None:
        """Drop expired totals, oldest first, and the oldest beyond ``max_entries``."""
        moment = self._monotonic()
        while self._totals:
            oldest = next(iter(self._totals.values()))
            if oldest.expires > moment and len(self._totals) <= self._max_entries:
                return
            self._totals.popitem(last=False)


REPORT_TEXTS = {
    "usage.subject.user": "You",
    "usage.subject.guild": "This server",
    "usage.subject.global": "The bot (everyone)",
    "usage.none": "No budgets apply.",
    "usage.one.tokens.day": "{used} token today",
    "usage.one.tokens.month": "{used} token this month",
    "usage.one.images.day": "{used} image today",
    "usage.one.images.month": "{used} image this month",
    "usage.many.tokens.day": "{used} tokens today",
    "usage.many.tokens.month": "{used} tokens this month",
    "usage.many.images.day": "{used} images today",
    "usage.many.images.month": "{used} images this month",
    "usage.no_limit": "{spent} (no limit)",
    "usage.limited": "{spent} of {limit}: {remaining} left, renews {renews}",
}
"""The report's words by message key, in English (the Discord side passes its catalogue's)."""
Texts = Callable[..., str]


def english(key: str, **values: Any) -> str:
    """A report text in English."""
    return REPORT_TEXTS[key].format(**values)


def format_report(lines: Sequence[BudgetLine], text: Texts = english) -> str:
    """The ``/usage`` text: one line per budget, grouped by subject.

    ``text(key, **values)`` gives the words (English unless the caller passes a translation).
    """
    out: list[str] = []
    current: Subject | None = None
    for line in lines:
        if line.subject != current:
            current = line.subject
            out.append(f"**{text(f'usage.subject.{line.subject.kind}')}**")
        out.append("- " + _describe(line, text))
    return "\n".join(out) if out else text("usage.none")


def _describe(line: BudgetLine, text: Texts) -> str:
    count = "one" if line.used == 1 else "many"
    spent = text(f"usage.{count}.{line.unit}.{line.window}", used=f"{line.used:,}")
    spent += _details(line, text)
    if line.remaining is None:
        return text("usage.no_limit", spent=spent)
    return text(
        "usage.limited",
        spent=spent,
        limit=f"{line.limit:,}",
        remaining=f"{line.remaining:,}",
        renews=discord_time(line.renews_at),
    )


def _details(line: BudgetLine, text: Texts) -> str:
    """What a tokens total holds, if any: reasoning, tool definitions (issues 15, 17)."""
    parts = []
    if line.reasoning_tokens:
        parts.append(text("usage.details.reasoning", count=f"{line.reasoning_tokens:,}"))
    if line.tool_schema_tokens:
        parts.append(text("usage.details.tools", count=f"{line.tool_schema_tokens:,}"))
    return f" ({'; '.join(parts)})" if parts else ""
