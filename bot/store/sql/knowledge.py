"""The knowledge, memory and summary tables (issue 18), their SQL written once.

Vectors: exact cosine search in numpy over the stored float32 bytes (see
``bot.knowledge.vectors``), a guild's embeddings loaded once and reloaded when its chunks change.
Full text differs by dialect (``bot.store.knowledge_sqlite``: FTS5, ``knowledge_postgres``:
tsvector); the two rankings are fused by reciprocal rank.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
from bot.store.sql.program import (
    Dialect,
    Executor,
    Program,
    Statement,
    marks,
    one,
    rows,
    run,
    run_many,
    single,
)

CANDIDATES = 50
TURNS_READ = 2000
"""Most turns a summary refresh reads (a conversation older than the feature starts there)."""
SAVE_SUMMARY = (
    "INSERT INTO conversation_summaries (conversation_id, text, through_turn_id, "
    "token_estimate, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (conversation_id) "
    "DO UPDATE SET text = excluded.text, through_turn_id = excluded.through_turn_id, "
    "token_estimate = excluded.token_estimate, updated_at = excluded.updated_at"
)
TURNS_SINCE = (
    "SELECT t.id, t.role, t.author_name, t.content, COALESCE(t.token_estimate, 0) "
    "AS token_estimate FROM turns t JOIN exchanges e ON e.id = t.exchange_id "
    "WHERE t.conversation_id = ? AND t.id > ? AND e.status = 'complete' "
    "AND t.role IN ('user', 'assistant') AND t.content IS NOT NULL "
    "ORDER BY t.id DESC LIMIT ?"
)


class KnowledgeSql:
    """Knowledge base, memory and summaries on a store's executor.

    A dialect's subclass says how full-text search runs (``_lexical``) and ``vector_path``.
    """

    vector_path = ""

    def __init__(self, executor: Executor) -> None:
        self._sql = executor
        self._vectors: dict[int, GuildVectors] = {}

    @property
    def _dialect(self) -> Dialect:
        return self._sql.dialect

    def _lexical(self, guild_id: int, question: str) -> Statement | None:
        """The query ranking the guild's chunk ids for ``question`` (``None``: no terms)."""
        raise NotImplementedError

    # -- knowledge base -------------------------------------------------------------------

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
        now = self._dialect.time(records.utc_now())
        values = (guild_id, title, kind, origin, added_by, len(chunks), now)
        row = await self._sql.write(lambda: _add_source(values, chunks))
        return _source(row, self._dialect)

    async def list_sources(self, guild_id: int) -> list[KnowledgeSource]:
        """The guild's sources, oldest first."""
        statement = rows("SELECT * FROM knowledge_sources WHERE guild_id = ? ORDER BY id", guild_id)
        found = await self._sql.read(lambda: single(statement))
        return [_source(row, self._dialect) for row in found]

    async def remove_source(self, guild_id: int, source_id: int) -> KnowledgeSource | None:
        """Delete a source of this guild (and its chunks); the removed source or ``None``."""
        d = self._dialect
        row = await self._sql.write(lambda: _remove_source(d, guild_id, source_id))
        return _source(row, d) if row is not None else None

    async def search(
        self, guild_id: int, question: str, vector: Sequence[float] | None, limit: int
    ) -> list[KnowledgeHit]:
        """The guild's chunks best matching ``question``: full text and vectors, fused by rank."""
        lexical = self._lexical(guild_id, question)
        ranked = [] if lexical is None else await self._sql.read(lambda: single(lexical))
        rankings = [[int(row[0]) for row in ranked]]
        if vector is not None:
            rankings.append((await self._guild_vectors(guild_id)).nearest(vector, CANDIDATES))
        fused = fuse(rankings, limit)
        if not fused:
            return []
        statement = rows(
            "SELECT c.id, c.source_id, s.title AS source_title, s.origin, c.title, c.text "
            "FROM knowledge_chunks c JOIN knowledge_sources s ON s.id = c.source_id "
            f"WHERE c.guild_id = ? AND c.id IN ({marks(len(fused))})",
            guild_id,
            *[chunk_id for chunk_id, _ in fused],
        )
        found = {row["id"]: row for row in await self._sql.read(lambda: single(statement))}
        return [_hit(found[i], score) for i, score in fused if i in found]

    async def _guild_vectors(self, guild_id: int) -> GuildVectors:
        statement = one(
            "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM knowledge_chunks WHERE guild_id = ?",
            guild_id,
        )
        row = await self._sql.read(lambda: single(statement))
        mark = (int(row[0]), int(row[1])) if row else (0, 0)
        cached = self._vectors.get(guild_id)
        if cached is not None and cached.mark == mark:
            return cached
        embeddings = rows("SELECT id, embedding FROM knowledge_chunks WHERE guild_id = ?", guild_id)
        found = await self._sql.read(lambda: single(embeddings))
        built = GuildVectors.build(mark, [(int(r[0]), bytes(r[1])) for r in found])
        self._vectors[guild_id] = built
        return built

    async def chunk_count(self, guild_id: int) -> int:
        """How many chunks the guild's knowledge base holds."""
        statement = one("SELECT COUNT(*) FROM knowledge_chunks WHERE guild_id = ?", guild_id)
        row = await self._sql.read(lambda: single(statement))
        return int(row[0]) if row else 0

    # -- memory ---------------------------------------------------------------------------

    async def remember(self, user_id: int, guild_id: int, text: str) -> Memory:
        """Keep ``text`` for this user in this guild (``0``: direct messages)."""
        statement = one(
            "INSERT INTO memories (user_id, guild_id, text, created_at) VALUES (?, ?, ?, ?) "
            "RETURNING *",
            user_id,
            guild_id,
            text,
            self._dialect.time(records.utc_now()),
        )
        return _memory(await self._sql.write(lambda: single(statement)), self._dialect)

    async def memories(self, user_id: int, guild_id: int | None) -> list[Memory]:
        """The user's memories in one guild, or everywhere when ``guild_id`` is ``None``."""
        statement = rows("SELECT * FROM memories WHERE user_id = ? ORDER BY id", user_id)
        if guild_id is not None:
            statement = rows(
                "SELECT * FROM memories WHERE user_id = ? AND guild_id = ? ORDER BY id",
                user_id,
                guild_id,
            )
        found = await self._sql.read(lambda: single(statement))
        return [_memory(row, self._dialect) for row in found]

    async def forget_memories(self, user_id: int, guild_id: int, memory_id: int | None) -> int:
        """Delete one of the user's memories here (or all of them with ``None``): how many."""
        forget = "DELETE FROM memories WHERE user_id = ? AND guild_id = ?"
        statement = run(forget, user_id, guild_id)
        if memory_id is not None:
            statement = run(forget + " AND id = ?", user_id, guild_id, memory_id)
        return int(await self._sql.write(lambda: single(statement)))

    # -- rolling summaries ----------------------------------------------------------------

    async def summary(self, conversation_id: int) -> Summary | None:
        """The conversation's rolling summary, or ``None``."""
        statement = one(
            "SELECT * FROM conversation_summaries WHERE conversation_id = ?", conversation_id
        )
        row = await self._sql.read(lambda: single(statement))
        return _summary(row, self._dialect) if row else None

    async def turns_since(
        self, conversation_id: int, after_turn_id: int, limit: int = TURNS_READ
    ) -> list[PastTurn]:
        """The newest ``limit`` text turns of complete exchanges after ``after_turn_id``,
        oldest first."""
        statement = rows(TURNS_SINCE, conversation_id, after_turn_id, limit)
        found = await self._sql.read(lambda: single(statement))
        return [PastTurn(*tuple(row)) for row in reversed(found)]

    async def save_summary(
        self, conversation_id: int, text: str, through_turn_id: int, token_estimate: int
    ) -> None:
        """Replace the conversation's rolling summary (keeps whether the user was told)."""
        now = self._dialect.time(records.utc_now())
        statement = run(SAVE_SUMMARY, conversation_id, text, through_turn_id, token_estimate, now)
        await self._sql.write(lambda: single(statement))

    async def mark_told(self, conversation_id: int) -> bool:
        """Record that the user was told of the summary: ``True`` only the first time."""
        statement = run(
            "UPDATE conversation_summaries SET told = TRUE WHERE conversation_id = ? AND NOT told",
            conversation_id,
        )
        return bool(await self._sql.write(lambda: single(statement)))


def _add_source(values: tuple[Any, ...], chunks: Sequence[NewChunk]) -> Program[Any]:
    row = yield one(
        "INSERT INTO knowledge_sources (guild_id, title, kind, origin, added_by, chunk_count, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
        *values,
    )
    yield run_many(
        "INSERT INTO knowledge_chunks (source_id, guild_id, seq, title, text, embedding) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (row["id"], values[0], seq, chunk.title, chunk.text, chunk.embedding)
            for seq, chunk in enumerate(chunks)
        ],
    )
    return row


def _remove_source(d: Dialect, guild_id: int, source_id: int) -> Program[Any]:
    row = yield one(
        "SELECT * FROM knowledge_sources WHERE id = ? AND guild_id = ?"
        + d.lock("knowledge_sources"),
        source_id,
        guild_id,
    )
    if row is not None:
        yield run("DELETE FROM knowledge_chunks WHERE source_id = ?", source_id)
        yield run("DELETE FROM knowledge_sources WHERE id = ?", source_id)
    return row


def _source(row: Any, d: Dialect) -> KnowledgeSource:
    return KnowledgeSource(
        id=row["id"],
        guild_id=row["guild_id"],
        title=row["title"],
        kind=row["kind"],
        origin=row["origin"],
        added_by=row["added_by"],
        chunk_count=row["chunk_count"],
        created_at=d.from_time(row["created_at"]),
    )


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


def _memory(row: Any, d: Dialect) -> Memory:
    return Memory(
        id=row["id"],
        user_id=row["user_id"],
        guild_id=row["guild_id"],
        text=row["text"],
        created_at=d.from_time(row["created_at"]),
    )


def _summary(row: Any, d: Dialect) -> Summary:
    return Summary(
        conversation_id=row["conversation_id"],
        text=row["text"],
        through_turn_id=row["through_turn_id"],
        token_estimate=row["token_estimate"],
        told=bool(row["told"]),
        updated_at=d.from_time(row["updated_at"]),
    )
