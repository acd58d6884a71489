"""The usage ledger as budgets see it: windows, subjects, totals since a reset, and reports.

A budget counts the ledger rows (tokens the model server reported, images generated) of one
subject (a user, a guild, or everyone) in one window (the current UTC day or month), from the
window's start or from the moment an admin reset the subject's budget, whichever is later. Reset
markers are stored as settings (scope ``quota_reset_<kind>``) so every process sees them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.store import Store

Window = Literal["day", "month"]
SubjectKind = Literal["user", "guild", "global"]
Clock = Callable[[], datetime]

RESET_SCOPE_PREFIX = "quota_reset_"
RESET_KEY = "reset_at_ms"
MARKER_TTL_S = 30.0


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
    """Tokens and images a subject spent in a window."""

    tokens: int = 0
    images: int = 0


@dataclass(frozen=True)
class BudgetLine:
    """One row of a usage report: what a subject spent of one budget in one window."""

    subject: Subject
    window: Window
    unit: Literal["tokens", "images"]
    used: int
    limit: int
    renews_at: datetime

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
    """

    def __init__(self, store: Store, *, clock: Clock = utcnow, marker_ttl_s: float = MARKER_TTL_S):
        self._store = store
        self._clock = clock
        self._marker_ttl_s = marker_ttl_s
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
        return Spent(tokens=totals.total_tokens, images=totals.images)

    async def reset_marker(self, subject: Subject) -> datetime | None:
        """When an admin last reset this subject's budgets, or None."""
        cached = self._markers.get(subject)
        if cached is not None and time.monotonic() < cached[0]:
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
        self._markers[subject] = (time.monotonic() + self._marker_ttl_s, marker)


_SUBJECT_NAMES = {"user": "You", "guild": "This server", "global": "The bot (everyone)"}
_WINDOW_NAMES = {"day": "today", "month": "this month"}


def format_report(lines: Sequence[BudgetLine]) -> str:
    """The ``/usage`` text: one line per budget, grouped by subject."""
    out: list[str] = []
    current: Subject | None = None
    for line in lines:
        if line.subject != current:
            current = line.subject
            out.append(f"**{_SUBJECT_NAMES[line.subject.kind]}**")
        out.append("- " + _describe(line))
    return "\n".join(out) if out else "No budgets apply."


def _describe(line: BudgetLine) -> str:
    spent = f"{line.used:,} {line.unit} {_WINDOW_NAMES[line.window]}"
    if line.remaining is None:
        return f"{spent} (no limit)"
    return (
        f"{spent} of {line.limit:,}: {line.remaining:,} left, renews {discord_time(line.renews_at)}"
    )
