"""The knowledge, memory and summary tables on the embedded SQLite store.

Writes go through the store's one writer (group commit, ``BEGIN IMMEDIATE``); reads use its
reader connection. Vectors: exact cosine search in numpy over the stored float32 bytes (see
``bot.knowledge.vectors``); full text: FTS5 (``knowledge_fts``); fused by reciprocal rank.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite

from bot.knowledge.lexical import fts5_query
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
from bot.store.sqlite_base import fetch_all, fetch_one, from_ms, on_thread, select_all, to_ms
from bot.store.sqlite_writer import Writer

CANDIDATES = 50
TURNS_READ = 2000
"""Most turns a summary refresh reads (a conversation older than the feature starts there)."""
VECTOR_PATH = "exact cosine search in numpy over float32 blobs (no SQLite extension needed)"


class SqliteKnowledge:
    """Knowledge base, memory and summaries in the SQLite store's file."""

    vector_path = VECTOR_PATH

    def __init__(self, writer: Writer, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._vectors: dict[int, GuildVectors] = {}

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
        now = to_ms(records.utc_now())
        values = (guild_id, title, kind, origin, added_by, len(chunks), now)
        row = await self._writer.run(lambda db: _add_source(db, values, chunks))
        return _source(row)

    async def list_sources(self, guild_id: int) -> list[KnowledgeSource]:
        """The guild's sources, oldest first."""
        rows = await fetch_all(
            self._reader,
            "SELECT * FROM knowledge_sources WHERE guild_id = ? ORDER BY id",
            (guild_id,),
        )
        return [_source(row) for row in rows]

    async def remove_source(self, guild_id: int, source_id: int) -> KnowledgeSource | None:
        """Delete a source of this guild (and its chunks); the removed source or ``None``."""
        row = await self._writer.run(lambda db: _remove_source(db, guild_id, source_id))
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
        marks = ",".join("?" for _ in fused)
        rows = await fetch_all(
            self._reader,
            "SELECT c.id, c.source_id, s.title AS source_title, s.origin, c.title, c.text "
            "FROM knowledge_chunks c JOIN knowledge_sources s ON s.id = c.source_id "
            f"WHERE c.guild_id = ? AND c.id IN ({marks})",
            (guild_id, *[chunk_id for chunk_id, _ in fused]),
        )
        found = {row["id"]: row for row in rows}
        return [_hit(found[i], score) for i, score in fused if i in found]

    async def _lexical(self, guild_id: int, question: str) -> list[int]:
        query = fts5_query(question, guild_id)
        if not query:
            return []
        rows = await fetch_all(
            self._reader,
            "SELECT c.id FROM knowledge_fts f JOIN knowledge_chunks c ON c.id = f.rowid "
            "WHERE knowledge_fts MATCH ? AND c.guild_id = ? "
            "ORDER BY bm25(knowledge_fts, 0.0, 1.0, 1.0) LIMIT ?",
            (query, guild_id, CANDIDATES),
        )
        return [int(row[0]) for row in rows]

    async def _guild_vectors(self, guild_id: int) -> GuildVectors:
        row = await fetch_one(
            self._reader,
            "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM knowledge_chunks WHERE guild_id = ?",
            (guild_id,),
        )
        mark = (int(row[0]), int(row[1])) if row else (0, 0)
        cached = self._vectors.get(guild_id)
        if cached is not None and cached.mark == mark:
            return cached
        rows = await on_thread(
            self._reader,
            lambda db: select_all(
                db, "SELECT id, embedding FROM knowledge_chunks WHERE guild_id = ?", (guild_id,)
            ),
        )
        built = GuildVectors.build(mark, [(int(r[0]), bytes(r[1])) for r in rows])
        self._vectors[guild_id] = built
        return built

    async def chunk_count(self, guild_id: int) -> int:
        """How many chunks the guild's knowledge base holds."""
        row = await fetch_one(
            self._reader, "SELECT COUNT(*) FROM knowledge_chunks WHERE guild_id = ?", (guild_id,)
        )
        return int(row[0]) if row else 0

    # -- memory ---------------------------------------------------------------------------

    async def remember(self, user_id: int, guild_id: int, text: str) -> Memory:
        """Keep ``text`` for this user in this guild (``0``: direct messages)."""
        values = (user_id, guild_id, text, to_ms(records.utc_now()))
        row = await self._writer.run(
            lambda db: db.execute(
                "INSERT INTO memories (user_id, guild_id, text, created_at) VALUES (?, ?, ?, ?) "
                "RETURNING *",
                values,
            ).fetchone()
        )
        return _memory(row)

    async def memories(self, user_id: int, guild_id: int | None) -> list[Memory]:
        """The user's memories in one guild, or everywhere when ``guild_id`` is ``None``."""
        args: tuple[int, ...] = (user_id,)
        sql = "SELECT * FROM memories WHERE user_id = ? ORDER BY id"
        if guild_id is not None:
            sql = "SELECT * FROM memories WHERE user_id = ? AND guild_id = ? ORDER BY id"
            args = (user_id, guild_id)
        return [_memory(row) for row in await fetch_all(self._reader, sql, args)]

    async def forget_memories(self, user_id: int, guild_id: int, memory_id: int | None) -> int:
        """Delete one of the user's memories here (or all of them with ``None``): how many."""
        sql = "DELETE FROM memories WHERE user_id = ? AND guild_id = ?"
        args: tuple[int, ...] = (user_id, guild_id)
        if memory_id is not None:
            sql, args = sql + " AND id = ?", (*args, memory_id)
        return int(await self._writer.run(lambda db: db.execute(sql, args).rowcount))

    # -- rolling summaries ----------------------------------------------------------------

    async def summary(self, conversation_id: int) -> Summary | None:
        """The conversation's rolling summary, or ``None``."""
        row = await fetch_one(
            self._reader,
            "SELECT * FROM conversation_summaries WHERE conversation_id = ?",
            (conversation_id,),
        )
        return _summary(row) if row else None

    async def turns_since(
        self, conversation_id: int, after_turn_id: int, limit: int = TURNS_READ
    ) -> list[PastTurn]:
        """The newest ``limit`` text turns of complete exchanges after ``after_turn_id``,
        oldest first."""
        rows = await fetch_all(
            self._reader,
            "SELECT t.id, t.role, t.author_name, t.content, COALESCE(t.token_estimate, 0) "
            "AS token_estimate FROM turns t JOIN exchanges e ON e.id = t.exchange_id "
            "WHERE t.conversation_id = ? AND t.id > ? AND e.status = 'complete' "
            "AND t.role IN ('user', 'assistant') AND t.content IS NOT NULL "
            "ORDER BY t.id DESC LIMIT ?",
            (conversation_id, after_turn_id, limit),
        )
        return [PastTurn(*tuple(row)) for row in reversed(rows)]

    async def save_summary(
        self, conversation_id: int, text: str, through_turn_id: int, token_estimate: int
    ) -> None:
        """Replace the conversation's rolling summary (keeps whether the user was told)."""
        values = (conversation_id, text, through_turn_id, token_estimate, to_ms(records.utc_now()))
        await self._writer.run(
            lambda db: db.execute(
                "INSERT INTO conversation_summaries (conversation_id, text, through_turn_id, "
                "token_estimate, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (conversation_id) "
                "DO UPDATE SET text = excluded.text, through_turn_id = excluded.through_turn_id, "
                "token_estimate = excluded.token_estimate, updated_at = excluded.updated_at",
                values,
            )
        )

    async def mark_told(self, conversation_id: int) -> bool:
        """Record that the user was told of the summary: ``True`` only the first time."""
        changed = await self._writer.run(
            lambda db: (
                db.execute(
                    "UPDATE conversation_summaries SET told = 1 "
                    "WHERE conversation_id = ? AND told = 0",
                    (conversation_id,),
                ).rowcount
            )
        )
        return bool(changed)


def _add_source(db: sqlite3.Connection, values: tuple[Any, ...], chunks: Sequence[NewChunk]) -> Any:
    row = db.execute(
        "INSERT INTO knowledge_sources (guild_id, title, kind, origin, added_by, chunk_count, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
        values,
    ).fetchone()
    db.executemany(
        "INSERT INTO knowledge_chunks (source_id, guild_id, seq, title, text, embedding) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (row["id"], values[0], seq, chunk.title, chunk.text, chunk.embedding)
            for seq, chunk in enumerate(chunks)
        ],
    )
    return row


def _remove_source(db: sqlite3.Connection, guild_id: int, source_id: int) -> Any:
    row = db.execute(
        "SELECT * FROM knowledge_sources WHERE id = ? AND guild_id = ?", (source_id, guild_id)
    ).fetchone()
    if row is not None:
        db.execute("DELETE FROM knowledge_chunks WHERE source_id = ?", (source_id,))
        db.execute("DELETE FROM knowledge_sources WHERE id = ?", (source_id,))
    return row


def _source(row: Any) -> KnowledgeSource:
    return KnowledgeSource(
        id=row["id"],
        guild_id=row["guild_id"],
        title=row["title"],
        kind=row["kind"],
        origin=row["origin"],
        added_by=row["added_by"],
        chunk_count=row["chunk_count"],
        created_at=_at(row["created_at"]),
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


def _memory(row: Any) -> Memory:
    return Memory(
        id=row["id"],
        user_id=row["user_id"],
        guild_id=row["guild_id"],
        text=row["text"],
        created_at=_at(row["created_at"]),
    )


def _summary(row: Any) -> Summary:
    return Summary(
        conversation_id=row["conversation_id"],
        text=row["text"],
        through_turn_id=row["through_turn_id"],
        token_estimate=row["token_estimate"],
        told=bool(row["told"]),
        updated_at=_at(row["updated_at"]),
    )


def _at(value: int) -> Any:
    moment = from_ms(value)
    assert moment is not None
    return moment
