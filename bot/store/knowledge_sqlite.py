"""The knowledge tables on the SQLite store: what differs from PostgreSQL is full-text search.

FTS5 (``knowledge_fts``, kept in step with the chunks by triggers), ranked by bm25; the rest is
``bot.store.sql.knowledge``, run on the store's writer and reader (``bot.store.sql.sqlite``).
"""

from __future__ import annotations

import aiosqlite

from bot.knowledge.lexical import fts5_query
from bot.store.sql.knowledge import CANDIDATES, KnowledgeSql
from bot.store.sql.program import Statement, rows
from bot.store.sql.sqlite import SqliteExecutor
from bot.store.sqlite_writer import Writer

VECTOR_PATH = "exact cosine search in numpy over float32 blobs (no SQLite extension needed)"


class SqliteKnowledge(KnowledgeSql):
    """Knowledge base, memory and summaries in the SQLite store's file."""

    vector_path = VECTOR_PATH

    def __init__(self, writer: Writer, reader: aiosqlite.Connection) -> None:
        super().__init__(SqliteExecutor(writer, reader))

    def _lexical(self, guild_id: int, question: str) -> Statement | None:
        query = fts5_query(question, guild_id)
        if not query:
            return None
        return rows(
            "SELECT c.id FROM knowledge_fts f JOIN knowledge_chunks c ON c.id = f.rowid "
            "WHERE knowledge_fts MATCH ? AND c.guild_id = ? "
            "ORDER BY bm25(knowledge_fts, 0.0, 1.0, 1.0) LIMIT ?",
            query,
            guild_id,
            CANDIDATES,
        )
