"""Benchmark: knowledge search latency at 100,000 chunks, on SQLite and on PostgreSQL.

Run by hand (it writes ~100,000 chunks of 1536-dimension float32 vectors, ~620 MB, per backend):
``python -m tests.bench.knowledge_search [--chunks 100000] [--backends sqlite,postgres]``.

The chunks are spread over guilds of at most ``knowledge.max_chunks_per_guild`` (20,000) each,
the exact vector search's stated limit; queries go to one full guild. Reported per backend:

* ``store_p50_ms`` / ``store_p99_ms``: ``KnowledgeStore.search`` (full text + exact vectors +
  rank fusion + the rows), warm cache;
* ``cold_ms``: the first search of a guild (its vectors are read into memory);
* ``turn_p50_ms`` / ``turn_p99_ms``: ``KnowledgeService.search`` as the ``search_knowledge``
  tool runs it inside a chat turn: the question's embeddings request (to the loopback OpenAI
  emulator) plus the store search.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from bot.engine.client import make_openai_client
from bot.knowledge.models import NewChunk
from bot.knowledge.service import Caller, KnowledgeService
from bot.settings import KnowledgeSettings, OpenAISettings
from bot.store.knowledge import KnowledgeStore, knowledge_store
from bot.store.postgres import PostgresStore
from bot.store.protocol import Store
from bot.store.sqlite import SqliteStore
from bot.testing.openai import OpenAIEmulator

DIMENSIONS = 1536
PER_GUILD = 20_000
PER_SOURCE = 1_000
QUERIES = 200
WORDS = (
    "refund",
    "shipping",
    "warranty",
    "kettle",
    "adapter",
    "order",
    "invoice",
    "account",
    "password",
    "rules",
    "moderator",
    "channel",
    "role",
    "ticket",
    "server",
    "event",
    "giveaway",
    "bot",
    "voice",
    "stream",
    "schedule",
    "price",
    "discount",
    "code",
)
POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def _text(rng: np.random.Generator, number: int) -> str:
    words = rng.choice(WORDS, size=40)
    return f"Entry {number} product code ZX-{number:06d}: " + " ".join(words)


async def fill(knowledge: KnowledgeStore, chunks: int, seed: int = 18) -> list[int]:
    """Write ``chunks`` chunks, ``PER_GUILD`` per guild; the guild ids."""
    rng = np.random.default_rng(seed)
    guilds: list[int] = []
    written = 0
    while written < chunks:
        guild = 1000 + len(guilds)
        guilds.append(guild)
        in_guild = min(PER_GUILD, chunks - written)
        for start in range(0, in_guild, PER_SOURCE):
            count = min(PER_SOURCE, in_guild - start)
            vectors = rng.standard_normal((count, DIMENSIONS), dtype=np.float32)
            batch = [
                NewChunk(f"doc > part {i}", _text(rng, written + start + i), vectors[i].tobytes())
                for i in range(count)
            ]
            await knowledge.add_source(
                guild, title=f"doc-{start}", kind="file", origin="file:doc", added_by=1,
                chunks=batch,
            )  # fmt: skip
        written += in_guild
    return guilds


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return round(statistics.median(ordered), 2), round(p99, 2)


async def measure(store: Store, chunks: int, emulator: OpenAIEmulator) -> dict[str, Any]:
    """Fill, then time searches in the first guild."""
    knowledge = knowledge_store(store)
    started = time.perf_counter()
    guilds = await fill(knowledge, chunks)
    fill_s = time.perf_counter() - started
    rng = np.random.default_rng(7)
    guild = guilds[0]
    cold = time.perf_counter()
    await knowledge.search(guild, "refund code", rng.standard_normal(DIMENSIONS).tolist(), 5)
    cold_ms = (time.perf_counter() - cold) * 1000
    store_ms = []
    for number in range(QUERIES):
        vector = rng.standard_normal(DIMENSIONS).tolist()
        question = f"{rng.choice(WORDS)} {rng.choice(WORDS)} ZX-{number * 37 % PER_GUILD:06d}"
        begun = time.perf_counter()
        hits = await knowledge.search(guild, question, vector, 5)
        store_ms.append((time.perf_counter() - begun) * 1000)
        assert hits, "every query must find something"
    client = make_openai_client(
        OpenAISettings(base_url=emulator.base_url, max_retries=0), "sk-bench"
    )
    service = KnowledgeService(knowledge, client, KnowledgeSettings(), None)
    turn_ms = []
    for number in range(QUERIES // 4):
        begun = time.perf_counter()
        await service.search(Caller(1, guild), guild, f"refund warranty ZX-{number:06d}")
        turn_ms.append((time.perf_counter() - begun) * 1000)
    await client.close()
    store_p50, store_p99 = _percentiles(store_ms)
    turn_p50, turn_p99 = _percentiles(turn_ms)
    return {
        "chunks": chunks,
        "guilds": len(guilds),
        "chunks_in_searched_guild": min(PER_GUILD, chunks),
        "dimensions": DIMENSIONS,
        "fill_s": round(fill_s, 1),
        "cold_ms": round(cold_ms, 1),
        "store_p50_ms": store_p50,
        "store_p99_ms": store_p99,
        "turn_p50_ms": turn_p50,
        "turn_p99_ms": turn_p99,
    }


async def run(chunks: int, backends: list[str]) -> dict[str, Any]:
    """Measure each backend in a fresh place."""
    results: dict[str, Any] = {}
    async with OpenAIEmulator() as emulator:
        for backend in backends:
            if backend == "sqlite":
                with tempfile.TemporaryDirectory(prefix="toolcord-bench-kb-") as folder:
                    store: Store = await SqliteStore.open(Path(folder) / "bench.db")
                    try:
                        results["sqlite"] = await measure(store, chunks, emulator)
                    finally:
                        await store.close()
            else:
                schema = f"bench_{uuid.uuid4().hex[:12]}"
                store = await PostgresStore.open(POSTGRES_DSN, schema=schema)
                try:
                    results["postgres"] = await measure(store, chunks, emulator)
                finally:
                    await store.close()
                    await _drop(schema)
    return results


async def _drop(schema: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_DSN)
    try:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await connection.close()


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    options = parser.parse_args()
    results = asyncio.run(run(options.chunks, options.backends.split(",")))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
