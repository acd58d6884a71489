"""The knowledge, memory and summary tables on the PostgreSQL store.

Full text: a generated ``tsvector`` column (``'simple'`` configuration, so exact terms such as
product codes match) with a GIN index. Vectors: the server here has no ``pgvector``, so the
search is exact: a guild's float32 embeddings are loaded once into a numpy matrix (reloaded when
the guild's chunks change) and ranked by cosine similarity. The README states the size limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.knowledge.lexical import tsquery
from bot.knowledge.models import (
    KnowledgeHit,
    KnowledgeSource,
    Memory,
    NewChunk,
    PastTurn,
    Summary,
)
from bot.knowledge.vectors import GuildVectors, fuse
from bot.store import records
from bot.store.postgres_base import Database, row_count

CANDIDATES = 50
TURNS_READ = 2000
"""Most turns a summary refresh reads (a conversation older than the feature starts there)."""
VECTOR_PATH = "exact cosine search in numpy over float32 BYTEA (pgvector not used)"


class PostgresKnowledge:
    """Knowledge base, memory and summaries in the PostgreSQL store's database."""

    vector_path = VECTOR_PATH

    def __init__(self, database: Database) -> None:
        self._db = database
        self._vectors: dict[int, GuildVectors] = {}

    async def add_source(
        self,
        guild_id: int,
        *,
        title: str,
        kind: str,
        origin: str,
        added_by: int,
        chunks: Sequence[NewChunk],
    ) -> KnowledgeSource:
        """Store a source and its chunks in one transaction."""
        async with self._db.transaction() as db:
            row = await db.fetchrow(
                "INSERT INTO knowledge_sources (guild_id, title, kind, origin, added_by, "
                "chunk_count, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
                guild_id, title, kind, origin, added_by, len(chunks), records.utc_now(),
            )  # fmt: skip
            assert row is not None
            await db.executemany(
                "INSERT INTO knowledge_chunks (source_id, guild_id, seq, title, text, embedding) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                [
                    (row["id"], guild_id, seq, chunk.title, chunk.text, chunk.embedding)
                    for seq, chunk in enumerate(chunks)
                ],
            )
        return _source(row)

    async def list_sources(self, guild_id: int) -> list[KnowledgeSource]:
        """The guild's sources, oldest first."""
        rows = await self._db.fetch(
            "SELECT * FROM knowledge_sources WHERE guild_id = $1 ORDER BY id", guild_id
        )
        return [_source(row) for row in rows]

    async def remove_source(self, guild_id: int, source_id: int) -> KnowledgeSource | None:
        """Delete a source of this guild (and its chunks); the removed source or ``None``."""
        async with self._db.transaction() as db:
            row = await db.fetchrow(
                "DELETE FROM knowledge_sources WHERE id = $1 AND guild_id = $2 RETURNING *",
                source_id,
                guild_id,
            )
        return _source(row) if row is not None else None

    async def search(
        self, guild_id: int, question: str, vector: Sequence[float] | None, limit: int
    ) -> list[KnowledgeHit]:
        """The guild's chunks best matching ``question``: full text and vectors, fused by rank."""
        rankings = [await self._lexical(guild_id, question)]
        if vector is not None:
            rankings.append((await self._guild_vectors(guild_id)).nearest(vector, CANDIDATES))
        fused = fuse(rankings, limit)
        if not fused:
            return []
        rows = await self._db.fetch(
            "SELECT c.id, c.source_id, s.title AS source_title, s.origin, c.title, c.text "
            "FROM knowledge_chunks c JOIN knowledge_sources s ON s.id = c.source_id "
            "WHERE c.guild_id = $1 AND c.id = ANY($2::bigint[])",
            guild_id,
            [chunk_id for chunk_id, _ in fused],
        )
        found = {row["id"]: row for row in rows}
        return [_hit(found[i], score) for i, score in fused if i in found]

    async def _lexical(self, guild_id: int, question: str) -> list[int]:
        query = tsquery(question)
        if not query:
            return []
        rows = await self._db.fetch(
            "SELECT id FROM knowledge_chunks, to_tsquery('simple', $2) q "
            "WHERE guild_id = $1 AND terms @@ q ORDER BY ts_rank(terms, q) DESC, id LIMIT $3",
            guild_id,
            query,
            CANDIDATES,
        )
        return [int(row["id"]) for row in rows]

    async def _guild_vectors(self, guild_id: int) -> GuildVectors:
        row = await self._db.fetchrow(
            "SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS newest FROM knowledge_chunks "
            "WHERE guild_id = $1",
            guild_id,
        )
        mark = (int(row["n"]), int(row["newest"])) if row else (0, 0)
        cached = self._vectors.get(guild_id)
        if cached is not None and cached.mark == mark:
            return cached
        rows = await self._db.fetch(
            "SELECT id, embedding FROM knowledge_chunks WHERE guild_id = $1", guild_id
        )
        built = GuildVectors.build(mark, [(int(r["id"]), bytes(r["embedding"])) for r in rows])
        self._vectors[guild_id] = built
        return built

    async def chunk_count(self, guild_id: int) -> int:
        """How many chunks the guild's knowledge base holds."""
        row = await self._db.fetchrow(
            "SELECT COUNT(*) AS n FROM knowledge_chunks WHERE guild_id = $1", guild_id
        )
        return int(row["n"]) if row else 0

    async def remember(self, user_id: int, guild_id: int, text: str) -> Memory:
        """Keep ``text`` for this user in this guild (``0``: direct messages)."""
        async with self._db.transaction() as db:
            row = await db.fetchrow(
                "INSERT INTO memories (user_id, guild_id, text, created_at) "
                "VALUES ($1, $2, $3, $4) RETURNING *",
                user_id, guild_id, text, records.utc_now(),
            )  # fmt: skip
        assert row is not None
        return _memory(row)

    async def memories(self, user_id: int, guild_id: int | None) -> list[Memory]:
        """The user's memories in one guild, or everywhere when ``guild_id`` is ``None``."""
        if guild_id is None:
            rows = await self._db.fetch(
                "SELECT * FROM memories WHERE user_id = $1 ORDER BY id", user_id
            )
        else:
            rows = await self._db.fetch(
                "SELECT * FROM memories WHERE user_id = $1 AND guild_id = $2 ORDER BY id",
                user_id,
                guild_id,
            )
        return [_memory(row) for row in rows]

    async def forget_memories(self, user_id: int, guild_id: int, memory_id: int | None) -> int:
        """Delete one of the user's memories here (or all of them with ``None``): how many."""
        async with self._db.transaction() as db:
            if memory_id is None:
                status = await db.execute(
                    "DELETE FROM memories WHERE user_id = $1 AND guild_id = $2", user_id, guild_id
                )
            else:
                status = await db.execute(
                    "DELETE FROM memories WHERE user_id = $1 AND guild_id = $2 AND id = $3",
                    user_id, guild_id, memory_id,
                )  # fmt: skip
        return row_count(status)

    async def summary(self, conversation_id: int) -> Summary | None:
        """The conversation's rolling summary, or ``None``."""
        row = await self._db.fetchrow(
            "SELECT * FROM conversation_summaries WHERE conversation_id = $1", conversation_id
        )
        return _summary(row) if row else None

    async def turns_since(
        self, conversation_id: int, after_turn_id: int, limit: int = TURNS_READ
    ) -> list[PastTurn]:
        """The newest ``limit`` text turns of complete exchanges after ``after_turn_id``,
        oldest first."""
        rows = await self._db.fetch(
            "SELECT t.id, t.role, t.author_name, t.content, COALESCE(t.token_estimate, 0) "
            "AS token_estimate FROM turns t JOIN exchanges e ON e.id = t.exchange_id "
            "WHERE t.conversation_id = $1 AND t.id > $2 AND e.status = 'complete' "
            "AND t.role IN ('user', 'assistant') AND t.content IS NOT NULL "
            "ORDER BY t.id DESC LIMIT $3",
            conversation_id,
            after_turn_id,
            limit,
        )
        return [PastTurn(*tuple(row)) for row in reversed(rows)]

    async def save_summary(
        self, conversation_id: int, text: str, through_turn_id: int, token_estimate: int
    ) -> None:
        """Replace the conversation's rolling summary (keeps whether the user was told)."""
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO conversation_summaries (conversation_id, text, through_turn_id, "
                "token_estimate, updated_at) VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (conversation_id) DO UPDATE SET text = excluded.text, "
                "through_turn_id = excluded.through_turn_id, "
                "token_estimate = excluded.token_estimate, updated_at = excluded.updated_at",
                conversation_id, text, through_turn_id, token_estimate, records.utc_now(),
            )  # fmt: skip

    async def mark_told(self, conversation_id: int) -> bool:
        """Record that the user was told of the summary: ``True`` only the first time."""
        async with self._db.transaction() as db:
            status = await db.execute(
                "UPDATE conversation_summaries SET told = TRUE "
                "WHERE conversation_id = $1 AND NOT told",
                conversation_id,
            )
        return row_count(status) > 0


def _source(row: Any) -> KnowledgeSource:
    return KnowledgeSource(**{key: row[key] for key in KnowledgeSource.__slots__})


def _hit(row: Any, score: float) -> KnowledgeHit:
    return KnowledgeHit(
        chunk_id=row["id"],
        source_id=row["source_id"],
        source_title=row["source_title"],
        origin=row["origin"],
        title=row["title"],
        text=row["text"],
        score=score,
    )


def _memory(row: Any) -> Memory:
    return Memory(**{key: row[key] for key in Memory.__slots__})


def _summary(row: Any) -> Summary:
    return Summary(**{key: row[key] for key in Summary.__slots__})
