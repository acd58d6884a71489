"""A user's data: deleting a conversation or a user, export, redaction of deleted messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.store import records
from bot.store.models import ForgetReport, JsonDict
from bot.store.sql.base import SqlConcern
from bot.store.sql.program import Dialect, Program, marks, one, rows, run, run_many, single
from bot.store.sql.rows import (
    EXCHANGE_COLUMNS,
    TURN_COLUMNS,
    conversation_from,
    exchange_from,
    turn_from,
)

OWNED = "SELECT id FROM conversations WHERE private_user_id = ?"
AUTHORED = "SELECT id FROM exchanges WHERE user_id = ?"
FORGET_LEDGER = (
    "DELETE FROM tool_ledger WHERE EXISTS (SELECT 1 FROM exchanges e WHERE e.user_id = ? "
    "AND (tool_ledger.key LIKE CAST(e.conversation_id AS TEXT) || '/' "
    "|| CAST(e.source_message_id AS TEXT) || '/%' "
    "OR tool_ledger.key LIKE CAST(e.conversation_id AS TEXT) || '/' || CAST(e.id AS TEXT) "
    "|| '/%'))"
)


def unreferenced_images(d: Dialect) -> str:
    """Images no turn of their conversation refers to any more (after a user's turns went)."""
    refers = d.contains("t.parts", "images.id")
    return (
        "DELETE FROM images WHERE conversation_id = ? AND NOT EXISTS (SELECT 1 FROM turns t "
        f"WHERE t.conversation_id = images.conversation_id AND {refers})"
    )


def forget_knowledge(user_id: int) -> Program[int]:
    """Inside ``forget_user``'s transaction, before exchanges go: the user's memories and the
    summaries of every conversation they took part in (a summary may repeat their words).

    Returns:
        How many memories were deleted.
    """
    yield run(
        "DELETE FROM conversation_summaries WHERE conversation_id IN (SELECT id FROM "
        "conversations WHERE private_user_id = ? OR user_id = ?) OR conversation_id IN "
        "(SELECT conversation_id FROM exchanges WHERE user_id = ?)",
        user_id,
        user_id,
        user_id,
    )
    return int((yield run("DELETE FROM memories WHERE user_id = ?", user_id)))


def forget(d: Dialect, user_id: int, keep_since: Any) -> Program[ForgetReport]:
    """Delete the user's rows; keep their usage rows (stripped or anonymised)."""
    yield from forget_knowledge(user_id)  # memories, summaries (issue 18)
    counted = yield one(
        f"SELECT COUNT(*) FROM turns WHERE conversation_id IN ({OWNED}) "
        f"OR exchange_id IN ({AUTHORED}) OR author_id = ?",
        user_id,
        user_id,
        user_id,
    )
    exchanges = yield one(
        f"SELECT COUNT(*) FROM exchanges WHERE conversation_id IN ({OWNED}) OR user_id = ?",
        user_id,
        user_id,
    )
    yield run(FORGET_LEDGER, user_id)
    touched = yield rows(
        "SELECT conversation_id FROM exchanges WHERE user_id = ? "
        "UNION SELECT conversation_id FROM turns WHERE author_id = ?",
        user_id,
        user_id,
    )
    yield run("DELETE FROM turns WHERE author_id = ?", user_id)
    yield run("DELETE FROM exchanges WHERE user_id = ?", user_id)
    yield run_many(unreferenced_images(d), [(row[0],) for row in touched])
    conversations = yield run("DELETE FROM conversations WHERE private_user_id = ?", user_id)
    yield run("UPDATE conversations SET user_id = NULL WHERE user_id = ?", user_id)
    since = keep_since if keep_since is not None else d.forever
    kept = yield run(
        "UPDATE usage SET conversation_id = NULL, exchange_id = NULL, model = ? "
        "WHERE user_id = ? AND created_at >= ?",
        records.FORGOTTEN_MODEL,
        user_id,
        since,
    )
    usage = yield run(
        "UPDATE usage SET user_id = NULL WHERE user_id = ? AND created_at < ?", user_id, since
    )
    settings = yield run("DELETE FROM settings WHERE scope = 'user' AND scope_id = ?", user_id)
    return ForgetReport(
        conversations=conversations,
        exchanges=int(exchanges[0]) if exchanges else 0,
        turns=int(counted[0]) if counted else 0,
        settings=settings,
        usage_anonymised=usage,
        usage_kept=kept,
    )


def redact(ids: list[int], now: Any) -> Program[int]:
    """Redact the user turns of these source messages and the answers sent as these messages."""
    return (
        yield run(
            "UPDATE turns SET content = ?, parts = '[]', deleted_at = ? WHERE deleted_at IS NULL "
            f"AND ((role = 'user' AND source_message_id IN ({marks(len(ids))})) "
            "OR (role = 'assistant' AND content IS NOT NULL AND content != '' "
            "AND exchange_id IN (SELECT exchange_id FROM message_links WHERE kind = 'sent' "
            f"AND message_id IN ({marks(len(ids))}))))",
            records.DELETED_TEXT,
            now,
            *ids,
            *ids,
        )
    )


def export_rows(key: str) -> Program[tuple[Any, list[Any], list[Any]] | None]:
    """A conversation's row, its exchanges' and its turns' (``None`` if there is none)."""
    conversation = yield one("SELECT * FROM conversations WHERE key = ?", key)
    if conversation is None:
        return None
    exchanges = yield rows(
        f"SELECT {EXCHANGE_COLUMNS} FROM exchanges WHERE conversation_id = ? ORDER BY id",
        conversation["id"],
    )
    turns = yield rows(
        f"SELECT {TURN_COLUMNS} FROM turns WHERE conversation_id = ? ORDER BY exchange_id, seq",
        conversation["id"],
    )
    return conversation, exchanges, turns


class UserDataSql(SqlConcern):
    """``UserDataStore`` in SQL."""

    async def clear_conversation(self, key: str) -> bool:
        """Delete a conversation and everything in it; ``False`` if there was none."""
        statement = run("DELETE FROM conversations WHERE key = ?", key)
        deleted = await self._sql.write(lambda: single(statement)) > 0
        if deleted:
            await self._sql.scrub()
        return bool(deleted)

    async def forget_user(
        self, user_id: int, *, keep_usage_since: datetime | None = None
    ) -> ForgetReport:
        """Delete every row authored by or keyed to ``user_id``; leave no copy behind.

        Private conversations of the user go whole; in shared ones the user's exchanges (their
        turns and the answers to them) go. Usage rows stay for guild totals: those since
        ``keep_usage_since`` under the user's id (counts only), older ones without the user.
        On SQLite the WAL is checkpointed and truncated; on PostgreSQL dead rows leave the disk
        when it vacuums the tables.
        """
        d = self._dialect
        since = d.time(keep_usage_since) if keep_usage_since is not None else None
        report = await self._sql.write(lambda: forget(d, user_id, since))
        await self._sql.scrub()
        return report

    async def export_conversation(
        self, key: str, *, only_user_id: int | None = None
    ) -> JsonDict | None:
        """A JSON-serialisable document of a conversation, or ``None`` if there is none."""
        found = await self._sql.read(lambda: export_rows(key))
        if found is None:
            return None
        conversation, exchanges, turns = found
        d = self._dialect
        return records.export_document(
            conversation_from(conversation, d),
            [exchange_from(row, d) for row in exchanges],
            [turn_from(row, d) for row in turns],
            only_user_id=only_user_id,
        )

    async def mark_messages_deleted(self, message_ids: Sequence[int]) -> int:
        """Redact the turns deleted Discord messages carried (see the protocol)."""
        ids = sorted({int(message_id) for message_id in message_ids})
        if not ids:
            return 0
        now = self._now()
        redacted = await self._sql.write(lambda: redact(ids, now))
        if redacted:
            await self._sql.scrub()
        return int(redacted)
