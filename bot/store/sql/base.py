"""What every concern of the SQL store shares: the executor, the clock, owner and counter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.store.sql.program import Dialect, Executor
from bot.store.tokens import TokenCounter


class SqlConcern:
    """Base of the concern classes ``SqlStore`` is made of (they share its state)."""

    owner: str
    counter: TokenCounter
    _sql: Executor
    _clock: Callable[[], datetime]

    @property
    def _dialect(self) -> Dialect:
        return self._sql.dialect

    def _now(self) -> Any:
        """Now, as the dialect stores times."""
        return self._sql.dialect.time(self._clock())
