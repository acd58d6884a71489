"""The side-effect ledger: a side-effecting tool call runs at most once per turn and arguments.

The dispatcher claims a key before running a ``side_effects=True`` tool and completes it after.
The store implements :class:`Ledger` durably; :class:`InMemoryLedger` serves tests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Literal, Protocol, runtime_checkable

LedgerStatus = Literal["attempted", "completed"]


@dataclass(frozen=True, slots=True)
class SideEffectRecord:
    """What the ledger knows about one side-effecting call.

    Attributes:
        key: The ledger key (see :func:`ledger_key`).
        tool: Tool name.
        arguments: Canonical JSON of the validated arguments.
        status: ``attempted`` (claimed, outcome unknown) or ``completed``.
        result: The text the model was given, once completed.
        outcome: The outcome status passed to ``complete`` (e.g. ``ok``, ``error``).
    """

    key: str
    tool: str
    arguments: str
    status: LedgerStatus = "attempted"
    result: str | None = None
    outcome: str | None = None


class LedgerEntry(Protocol):
    """What the dispatcher reads of a ledger record (any store's record type fits)."""

    @property
    def status(self) -> str: ...

    @property
    def result(self) -> str | None: ...


@runtime_checkable
class Ledger(Protocol):
    """Durable record of attempted and completed side effects."""

    async def claim(self, key: str, tool: str, arguments: str) -> LedgerEntry | None:
        """Claim ``key``: None if newly claimed (go ahead), else the existing record."""
        ...

    async def complete(self, key: str, result: str, status: str) -> None:
        """Mark a claimed key completed with the model-facing result and outcome status."""
        ...


def ledger_key(conversation_id: str, turn_id: str, tool: str, canonical_arguments: str) -> str:
    """The key of one side effect: conversation, turn, tool and a hash of the arguments."""
    digest = hashlib.sha256(canonical_arguments.encode()).hexdigest()
    return f"{conversation_id}/{turn_id}/{tool}/{digest}"


class InMemoryLedger:
    """A :class:`Ledger` in a dict; survives a new Dispatcher, not a process restart."""

    def __init__(self) -> None:
        self._records: dict[str, SideEffectRecord] = {}

    async def claim(self, key: str, tool: str, arguments: str) -> SideEffectRecord | None:
        """Claim ``key`` or return its existing record."""
        existing = self._records.get(key)
        if existing is not None:
            return existing
        self._records[key] = SideEffectRecord(key, tool, arguments)
        return None

    async def complete(self, key: str, result: str, status: str) -> None:
        """Mark ``key`` completed.

        Raises:
            KeyError: If ``key`` was never claimed (a dispatcher bug).
        """
        record = self._records[key]
        self._records[key] = replace(record, status="completed", result=result, outcome=status)

    def get(self, key: str) -> SideEffectRecord | None:
        """The record of ``key``, if any (for tests and diagnostics)."""
        return self._records.get(key)

    def records(self) -> list[SideEffectRecord]:
        """Every record in claim order."""
        return list(self._records.values())
