"""The narrow knowledge store (knowledge base, memory, rolling summaries) beside a conversation
store: ``knowledge_store(store)`` returns the one for the store's backend, on its connections."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.knowledge.models import (
    KnowledgeHit,
    KnowledgeSource,
    Memory,
    NewChunk,
    PastTurn,
    Summary,
)
from bot.store.protocol import Store


class KnowledgeStore(Protocol):
    """What the knowledge features need from storage (same contract on every backend)."""

    vector_path: str

    async def add_source(
        self,
        guild_id: int,
        *,
        title: str,
        kind: str,
        origin: str,
        added_by: int,
        chunks: Sequence[NewChunk],
    ) -> KnowledgeSource: ...

    async def list_sources(self, guild_id: int) -> list[KnowledgeSource]: ...

    async def remove_source(self, guild_id: int, source_id: int) -> KnowledgeSource | None: ...

    async def search(
        self, guild_id: int, question: str, vector: Sequence[float] | None, limit: int
    ) -> list[KnowledgeHit]: ...

    async def chunk_count(self, guild_id: int) -> int: ...

    async def remember(self, user_id: int, guild_id: int, text: str) -> Memory: ...

    async def memories(self, user_id: int, guild_id: int | None) -> list[Memory]: ...

    async def forget_memories(self, user_id: int, guild_id: int, memory_id: int | None) -> int: ...

    async def summary(self, conversation_id: int) -> Summary | None: ...

    async def turns_since(
        self, conversation_id: int, after_turn_id: int, limit: int = ...
    ) -> list[PastTurn]: ...

    async def save_summary(
        self, conversation_id: int, text: str, through_turn_id: int, token_estimate: int
    ) -> None: ...

    async def mark_told(self, conversation_id: int) -> bool: ...


SQLITE_SEARCH = (
    "SQLite: FTS5 full text + exact cosine vector search in numpy over float32 blobs, fused by "
    "rank (sqlite-vec is not used: it needs a SQLite that loads extensions)"
)
POSTGRES_SEARCH = (
    "PostgreSQL: tsvector full text + exact cosine vector search in numpy over float32 BYTEA, "
    "fused by rank (pgvector is not used); at most knowledge.max_chunks_per_guild ({limit}) "
    "chunks per server"
)


def search_path(backend: str, max_chunks_per_guild: int) -> str:
    """How knowledge search runs on ``backend`` (``check`` prints it)."""
    if backend == "postgres":
        return POSTGRES_SEARCH.format(limit=max_chunks_per_guild)
    return SQLITE_SEARCH


def knowledge_store(store: Store) -> KnowledgeStore:
    """The knowledge store on ``store``'s database (SQLite or PostgreSQL)."""
    from bot.store.postgres import PostgresStore
    from bot.store.sqlite import SqliteStore

    if isinstance(store, SqliteStore):
        from bot.store.knowledge_sqlite import SqliteKnowledge

        writer, reader = store.connections()
        return SqliteKnowledge(writer, reader)
    if isinstance(store, PostgresStore):
        from bot.store.knowledge_postgres import PostgresKnowledge

        return PostgresKnowledge(store.database())
    raise TypeError(f"No knowledge store for {type(store).__name__}")
