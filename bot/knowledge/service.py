"""The knowledge service: adds and searches a guild's sources, keeps user memory.

Every embeddings call is admitted by the quota gate and charged to the usage ledger, to the user
who caused it (the admin adding a source, the member whose question is searched).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import openai

from bot.errors import LimitError, ModelError
from bot.knowledge.chunking import TextChunk
from bot.knowledge.models import KnowledgeHit, KnowledgeSource, Memory, NewChunk
from bot.knowledge.vectors import pack
from bot.policy.gate import Refusal
from bot.settings import KnowledgeSettings
from bot.store.knowledge import KnowledgeStore
from bot.store.models import Usage

EMBED_BATCH = 64
MAX_MEMORY_CHARS = 500


class CallGate(Protocol):
    """The quota gate's calls for a model request outside a chat turn (``QuotaPolicy``)."""

    async def admit_call(
        self, user_id: int, guild_id: int | None, *, is_owner: bool = False
    ) -> Refusal | None: ...

    async def charge_call(self, user_id: int, guild_id: int | None, usage: Usage) -> None: ...


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a call is for (charged to), and where."""

    user_id: int
    guild_id: int | None
    is_owner: bool = False


class KnowledgeService:
    """Knowledge base and memory operations over a ``KnowledgeStore``."""

    def __init__(
        self,
        store: KnowledgeStore,
        client: openai.AsyncOpenAI,
        settings: KnowledgeSettings,
        gate: CallGate | None,
    ) -> None:
        self.store = store
        self._client = client
        self._settings = settings
        self._gate = gate

    @property
    def settings(self) -> KnowledgeSettings:
        """The ``[knowledge]`` settings."""
        return self._settings

    async def add_source(
        self, caller: Caller, guild_id: int, *, title: str, kind: str, origin: str,
        chunks: Sequence[TextChunk],
    ) -> KnowledgeSource:  # fmt: skip
        """Embed ``chunks`` and store them as one source of ``guild_id``.

        Raises:
            LimitError: The guild's knowledge base would exceed ``max_chunks_per_guild``, or
                the caller's token budget is spent.
            ModelError: The embeddings endpoint failed.
        """
        self._check_enabled()
        held = await self.store.chunk_count(guild_id)
        limit = self._settings.max_chunks_per_guild
        if held + len(chunks) > limit:
            raise LimitError(
                f"This server's knowledge base holds {held} of at most {limit} chunks and "
                f"{title} adds {len(chunks)}. Remove a source with /knowledge remove first, "
                "or ask the bot owner to raise knowledge.max_chunks_per_guild."
            )
        vectors = await self.embed(caller, [f"{chunk.title}\n{chunk.text}" for chunk in chunks])
        stored = [
            NewChunk(chunk.title, chunk.text, pack(vector))
            for chunk, vector in zip(chunks, vectors, strict=True)
        ]
        return await self.store.add_source(
            guild_id, title=title, kind=kind, origin=origin, added_by=caller.user_id, chunks=stored
        )

    async def search(self, caller: Caller, guild_id: int, question: str) -> list[KnowledgeHit]:
        """The guild's chunks best matching ``question`` (hybrid: full text and vectors)."""
        self._check_enabled()
        if await self.store.chunk_count(guild_id) == 0:
            return []
        vector = (await self.embed(caller, [question]))[0]
        return await self.store.search(guild_id, question, vector, self._settings.search_results)

    def _check_enabled(self) -> None:
        if not self._settings.enabled:
            raise LimitError(
                "The bot owner has turned the knowledge base and memory off "
                "(knowledge.enabled = false)."
            )

    async def embed(self, caller: Caller, texts: Sequence[str]) -> list[list[float]]:
        """Embeddings of ``texts`` (in batches), admitted and charged like any model call.

        Raises:
            LimitError: The caller's token budget is spent.
            ModelError: The embeddings endpoint failed.
        """
        vectors: list[list[float]] = []
        for start in range(0, len(texts), EMBED_BATCH):
            batch = list(texts[start : start + EMBED_BATCH])
            vectors.extend(await self._embed_batch(caller, batch))
        return vectors

    async def _embed_batch(self, caller: Caller, batch: list[str]) -> list[list[float]]:
        model = self._settings.embedding_model
        if self._gate is not None:
            refusal = await self._gate.admit_call(
                caller.user_id, caller.guild_id, is_owner=caller.is_owner
            )
            if refusal is not None:
                raise LimitError(refusal.message)
        try:
            answer = await self._client.embeddings.create(model=model, input=batch)
        except openai.OpenAIError as error:
            raise ModelError(
                "embeddings",
                "The knowledge search could not reach its embeddings model; try again later, "
                "and tell the bot owner if it keeps failing.",
                detail=f"{model}: {type(error).__name__}: {error} (the bot owner must check "
                "knowledge.embedding_model and the model server)",
            ) from error
        if self._gate is not None:
            tokens = answer.usage.prompt_tokens if answer.usage else 0
            usage = Usage(model=model, prompt_tokens=tokens)
            await self._gate.charge_call(caller.user_id, caller.guild_id, usage)
        ordered = sorted(answer.data, key=lambda item: item.index)
        return [list(item.embedding) for item in ordered]

    # -- memory ---------------------------------------------------------------------------

    async def remember(self, user_id: int, scope: int, text: str) -> Memory:
        """Keep ``text`` for the user in ``scope`` (a guild id, ``0`` for DMs).

        Raises:
            LimitError: Memory is off, or the user keeps the most memories allowed here.
        """
        self._check_enabled()
        limit = self._settings.max_memories_per_user
        held = len(await self.store.memories(user_id, scope))
        if held >= limit:
            raise LimitError(
                f"You keep {held} of at most {limit} memories here; delete some with "
                "/memory forget first."
                if limit
                else "The bot owner has turned memory off (knowledge.max_memories_per_user = 0)."
            )
        return await self.store.remember(user_id, scope, text.strip()[:MAX_MEMORY_CHARS])
