"""The usage ledger: a row per answered turn (or tool image), summed for budgets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.store.models import Usage, UsageTotals
from bot.store.sql.base import SqlConcern
from bot.store.sql.program import Statement, one, run, single

INSERT_USAGE = (
    "INSERT INTO usage (user_id, guild_id, conversation_id, exchange_id, model, "
    "prompt_tokens, completion_tokens, images, reasoning_tokens, tool_schema_tokens, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
TOTALS = (
    "SELECT COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), "
    "0), COALESCE(SUM(images), 0), COALESCE(SUM(reasoning_tokens), 0), "
    "COALESCE(SUM(tool_schema_tokens), 0) FROM usage "
)
Owners = tuple[int | None, int | None, int | None, int | None]


def insert_usage(usage: Usage, owners: Owners, now: Any) -> Statement:
    """Insert a usage row; ``owners`` is (user, guild, conversation, exchange)."""
    counts = (
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.images,
        usage.reasoning_tokens,
        usage.tool_schema_tokens,
    )
    return run(INSERT_USAGE, *owners, usage.model, *counts, now)


class UsageSql(SqlConcern):
    """``UsageStore`` in SQL."""

    async def record_usage(
        self,
        usage: Usage,
        *,
        user_id: int | None,
        guild_id: int | None,
        conversation_id: int | None = None,
        exchange_id: int | None = None,
    ) -> None:
        """Add a usage ledger row outside an exchange (e.g. an image a tool generated)."""
        statement = insert_usage(
            usage, (user_id, guild_id, conversation_id, exchange_id), self._now()
        )
        await self._sql.write(lambda: single(statement))

    async def usage_totals(
        self,
        *,
        user_id: int | None = None,
        guild_id: int | None = None,
        since: datetime | None = None,
        model: str | None = None,
    ) -> UsageTotals:
        """Sum the usage ledger, filtered by user, guild, start time and model."""
        conditions = [
            ("user_id =", user_id),
            ("guild_id =", guild_id),
            ("model =", model),
            ("created_at >=", None if since is None else self._dialect.time(since)),
        ]
        present = [(test, value) for test, value in conditions if value is not None]
        where = [f"{test} ?" for test, _ in present]
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        statement = one(TOTALS + clause, *[value for _, value in present])
        row = await self._sql.read(lambda: single(statement))
        assert row is not None
        return UsageTotals(*(int(value) for value in row))
