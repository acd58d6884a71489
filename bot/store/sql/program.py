"""Programs: a transaction's statements written once, run by either dialect's executor.

A program is a generator: it yields a ``Statement`` and is sent back its result (rows, one row
or ``None``, a row count, or ``None`` for ``run_many``), and returns the transaction's result::

    def rename(key: str, name: str) -> Program[bool]:
        row = yield one("SELECT id FROM things WHERE key = ?", key)
        if row is None:
            return False
        yield run("UPDATE things SET name = ? WHERE id = ?", name, row["id"])
        return True

Placeholders are ``?``; the PostgreSQL executor numbers them (``numbered``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal, Protocol, TypeVar

T = TypeVar("T")
Kind = Literal["rows", "one", "run", "many"]


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a program and what it wants back."""

    kind: Kind
    sql: str
    params: Sequence[Any] | list[Sequence[Any]]


Program = Generator[Statement, Any, T]


def rows(sql: str, *params: Any) -> Statement:
    """All rows of a query (a list)."""
    return Statement("rows", sql, params)


def one(sql: str, *params: Any) -> Statement:
    """The first row of a query, or ``None``."""
    return Statement("one", sql, params)


def run(sql: str, *params: Any) -> Statement:
    """A statement for its effect; its result is the number of rows it changed."""
    return Statement("run", sql, params)


def run_many(sql: str, params: Iterable[Sequence[Any]]) -> Statement:
    """A statement once per parameter row (nothing comes back)."""
    return Statement("many", sql, list(params))


def single(statement: Statement) -> Program[Any]:
    """A program of one statement, returning its result."""
    return (yield statement)


def marks(count: int) -> str:
    """``?, ?, ?`` for an ``IN (...)`` list of ``count`` values."""
    return ", ".join("?" * count)


@lru_cache(maxsize=512)
def numbered(sql: str) -> str:
    """``sql`` with each ``?`` outside string literals turned into ``$1``, ``$2``, ...

    Raises:
        ValueError: A string literal is not closed (a mistake in the store's SQL).
    """
    out: list[str] = []
    number = 0
    quoted = False
    for char in sql:
        if char == "'":
            quoted = not quoted
        elif char == "?" and not quoted:
            number += 1
            out.append(f"${number}")
            continue
        out.append(char)
    if quoted:
        raise ValueError(f"unclosed string literal in SQL: {sql!r}")
    return "".join(out)


class Dialect(Protocol):
    """How a dialect stores values and spells the few statements that differ."""

    @property
    def name(self) -> str:
        """``"sqlite"`` or ``"postgres"``."""

    @property
    def forever(self) -> Any:
        """A stored time later than any other."""

    def time(self, moment: datetime) -> Any:
        """A ``datetime`` as stored."""

    def from_time(self, value: Any) -> datetime:
        """A stored time as a UTC ``datetime``."""

    def json(self, value: Any) -> Any:
        """A JSON value as stored."""

    def from_json(self, value: Any) -> Any:
        """A stored JSON value, decoded."""

    def lock(self, alias: str) -> str:
        """`` FOR UPDATE OF alias`` where rows can be locked, else ``""``."""

    def contains(self, text: str, part: str) -> str:
        """An SQL condition: the text (or JSON) column ``text`` contains ``part``."""


class Executor(Protocol):
    """Runs programs on one database: reads alone, writes each in one transaction."""

    @property
    def dialect(self) -> Dialect:
        """How this database stores values."""

    async def read(self, program: Callable[[], Program[T]]) -> T:
        """Run a reading program (one consistent trip where the dialect allows)."""

    async def write(self, program: Callable[[], Program[T]]) -> T:
        """Run a program in one write transaction: all of it or nothing."""

    async def scrub(self) -> None:
        """After deleting a user's data: leave no copy of it where the dialect keeps one."""
