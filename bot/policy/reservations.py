"""What running turns hold against the budgets, kept in step per subject (``QuotaPolicy``'s part).

A running turn holds ``tokens`` for the model round it is about to run (an estimate) and ``used``
for the rounds it ran (what the server reported), until the turn settles and the ledger has its
row. Callers serialise every change (``QuotaPolicy`` holds its lock).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, replace

from bot.policy.usage import Subject

log = logging.getLogger("toolcord.quotas")

TurnKey = tuple[str, int]


def ledger_subjects(user_id: int, guild_id: int | None) -> list[Subject]:
    """Whose totals a ledger row of this user and guild counts in (exemptions aside)."""
    subjects = [Subject("user", user_id), Subject("global")]
    if guild_id is not None:
        subjects.insert(1, Subject("guild", guild_id))
    return subjects


@dataclass
class Reservation:
    """A running turn: ``tokens`` held for its next model round, ``used`` by its past rounds."""

    user: Subject
    guild: Subject | None
    tokens: int
    expires_at: float
    used: int = 0

    def subjects(self) -> list[Subject]:
        """The subjects whose budgets this reservation holds tokens of."""
        return ledger_subjects(self.user.id, None if self.guild is None else self.guild.id)


class Reservations:
    """The running turns' reservations, in admission order (so in expiry order), with sums."""

    def __init__(self) -> None:
        self._by_turn: OrderedDict[TurnKey, Reservation] = OrderedDict()
        self._pending: dict[Subject, int] = {}  # tokens held for rounds about to run
        self._used: dict[Subject, int] = {}  # tokens running turns' rounds cost so far

    def __len__(self) -> int:
        return len(self._by_turn)

    def get(self, key: TurnKey) -> Reservation | None:
        return self._by_turn.get(key)

    def reserve(self, key: TurnKey, reservation: Reservation, tokens: int) -> None:
        """Hold ``tokens`` for a newly admitted turn (the same turn twice holds once)."""
        self.release(key)
        self._by_turn[key] = reservation
        self.hold(reservation, tokens=tokens, used=0)

    def release(self, key: TurnKey) -> Reservation | None:
        """The turn settled: it holds nothing any more. Returns what it held, if anything
        (``used``: what its rounds cost, as it stood before the release)."""
        reservation = self._by_turn.pop(key, None)
        if reservation is None:
            return None
        held = replace(reservation)
        self.hold(reservation, tokens=0, used=0)
        return held

    def hold(self, reservation: Reservation, *, tokens: int, used: int) -> None:
        """Set what a reservation holds, keeping the per-subject sums in step."""
        for subject in reservation.subjects():
            _move(self._pending, subject, tokens - reservation.tokens)
            _move(self._used, subject, used - reservation.used)
        reservation.tokens, reservation.used = tokens, used

    def pending(self, subject: Subject) -> int:
        """Tokens held for the rounds about to run against ``subject``."""
        return self._pending.get(subject, 0)

    def used(self, subject: Subject) -> int:
        """Tokens the running turns' rounds cost ``subject`` so far (not in the ledger yet)."""
        return self._used.get(subject, 0)

    def held(self, subject: Subject) -> int:
        """Everything running turns hold against ``subject``: rounds run and about to run."""
        return self.pending(subject) + self.used(subject)

    def running_for(self, user_id: int, *, besides: TurnKey) -> int:
        """How many turns of ``user_id`` run, ``besides`` one."""
        return sum(
            1 for key, held in self._by_turn.items() if held.user.id == user_id and key != besides
        )

    def first_expiry(self) -> float | None:
        """When the oldest reservation expires, or None when none is held."""
        first = next(iter(self._by_turn.values()), None)
        return None if first is None else first.expires_at

    def drop_expired(self, now: float) -> None:
        """Release the reservations of turns that never settled (oldest first)."""
        while self._by_turn:
            key, first = next(iter(self._by_turn.items()))
            if first.expires_at > now:
                return
            log.warning("a turn never settled its quota reservation; releasing it (%s)", key[0])
            self.release(key)


def _move(sums: dict[Subject, int], subject: Subject, delta: int) -> None:
    left = sums.get(subject, 0) + delta
    if left > 0:
        sums[subject] = left
    else:
        sums.pop(subject, None)
