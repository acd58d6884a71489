"""The tool-call ledger (``tools.ledger`` protocol): each side effect claimed once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.store import records
from bot.store.models import LedgerRecord
from bot.store.sql.base import SqlConcern
from bot.store.sql.program import Program, one, run, single
from bot.store.sql.rows import ledger_from

CLAIM = (
    "INSERT INTO tool_ledger (key, tool, arguments, status, conversation_id, created_at) "
    "VALUES (?, ?, ?, 'attempted', (SELECT id FROM conversations WHERE id = ?), ?) "
    "ON CONFLICT (key) DO NOTHING RETURNING key"
)
COMPLETE = (
    "INSERT INTO tool_ledger (key, tool, arguments, status, result, outcome, "
    "created_at, completed_at) VALUES (?, '', '', 'completed', ?, ?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET status = 'completed', result = excluded.result, "
    "outcome = excluded.outcome, completed_at = excluded.completed_at"
)


def _claim(values: tuple[Any, ...]) -> Program[Any]:
    """``None`` after inserting an attempted row, else the earlier row for the key."""
    claimed = yield one(CLAIM, *values)
    if claimed is not None:
        return None
    return (yield one("SELECT * FROM tool_ledger WHERE key = ?", values[0]))


class LedgerSql(SqlConcern):
    """``ToolLedgerStore`` in SQL."""

    async def claim(self, key: str, tool: str, arguments: str) -> LedgerRecord | None:
        """Claim a side effect: ``None`` if newly claimed (go ahead), else the earlier record."""
        values = (key, tool, arguments, records.ledger_conversation(key), self._now())
        row = await self._sql.write(lambda: _claim(values))
        return ledger_from(row, self._dialect) if row is not None else None

    async def complete(self, key: str, result: str, status: str = "ok") -> None:
        """Mark a claimed side effect completed with its result and outcome ``status``."""
        now = self._now()
        statement = run(COMPLETE, key, result, status, now, now)
        await self._sql.write(lambda: single(statement))

    async def prune_ledger(self, before: datetime) -> int:
        """Delete ledger rows created before ``before``; returns how many."""
        cutoff = self._dialect.time(before)
        statement = run("DELETE FROM tool_ledger WHERE created_at < ?", cutoff)
        return int(await self._sql.write(lambda: single(statement)))
