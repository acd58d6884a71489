"""The knowledge tables on the PostgreSQL store: what differs from SQLite is full-text search.

A generated ``tsvector`` column (``'simple'`` configuration, so exact terms such as product codes
match) with a GIN index, ranked by ``ts_rank``. The server here has no ``pgvector``, so vector
search is the exact numpy search of ``bot.store.sql.knowledge``; the README states the size limit.
"""

from __future__ import annotations

from bot.knowledge.lexical import tsquery
from bot.store.postgres_base import Database
from bot.store.sql.knowledge import CANDIDATES, KnowledgeSql
from bot.store.sql.postgres import PostgresExecutor
from bot.store.sql.program import Statement, rows

VECTOR_PATH = "exact cosine search in numpy over float32 BYTEA (pgvector not used)"


class PostgresKnowledge(KnowledgeSql):
    """Knowledge base, memory and summaries in the PostgreSQL store's database."""

    vector_path = VECTOR_PATH

    def __init__(self, database: Database) -> None:
        super().__init__(PostgresExecutor(database))

    def _lexical(self, guild_id: int, question: str) -> Statement | None:
        query = tsquery(question)
        if not query:
            return None
        return rows(
            "SELECT id FROM knowledge_chunks, to_tsquery('simple', ?) q "
            "WHERE guild_id = ? AND terms @@ q ORDER BY ts_rank(terms, q) DESC, id LIMIT ?",
            query,
            guild_id,
            CANDIDATES,
        )
