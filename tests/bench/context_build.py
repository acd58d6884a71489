"""Benchmark: building the context window costs the same for 100 or 100,000 stored turns.

The window reads only the newest rows that fit the budget (an indexed query, in batches), so
a long history must not make it slower. Run: ``python -m tests.bench.context_build``.
Prints and returns ``{"turns_100_ms", "turns_100000_ms", "context_build_ratio"}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.store.sqlite import SqliteStore
from bot.store.tokens import TokenCounter

SIZES = (100, 100_000)
BUDGET_TOKENS = 4000
REPEATS = 51
_SENTENCE = "the weather in paris is mild today with light wind and a chance of rain later"


def _text(number: int, role: str) -> str:
    vocabulary = _SENTENCE.split()
    words = [vocabulary[(number + index) % len(vocabulary)] for index in range(28)]
    return f"{role} {number}: " + " ".join(words)


def fill(path: Path, turns: int) -> int:
    """Write a conversation of ``turns`` turns (user/assistant pairs) with executemany."""
    exchanges = turns // 2
    counter = TokenCounter()
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "INSERT INTO conversations (key, guild_id, channel_id, user_id, created_at, "
            "updated_at) VALUES ('guild:1:channel:1', 1, 1, 1, 0, 0)"
        )
        conversation_id = int(db.execute("SELECT id FROM conversations").fetchone()[0])
        db.executemany(
            "INSERT INTO exchanges (id, conversation_id, user_id, owner, status, "
            "source_message_id, sent_message_ids, created_at) "
            "VALUES (?, ?, 1, 'main', 'complete', ?, '[]', 0)",
            [(number, conversation_id, number) for number in range(1, exchanges + 1)],
        )
        db.executemany(
            "INSERT INTO turns (conversation_id, exchange_id, seq, role, content, author_id, "
            "author_name, status, token_estimate, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'complete', ?, 0)",
            [
                row
                for number in range(1, exchanges + 1)
                for row in _turn_rows(conversation_id, number, counter)
            ],
        )
    return conversation_id


def _turn_rows(conversation_id: int, number: int, counter: TokenCounter) -> list[tuple[Any, ...]]:
    """A user and an assistant turn, with the token estimates the store would write."""
    question, answer = _text(number, "user"), _text(number, "bot")
    user_tokens = counter.count_message({"role": "user", "content": question, "name": "alice"})
    bot_tokens = counter.count_message({"role": "assistant", "content": answer})
    return [
        (conversation_id, number, 0, "user", question, 1, "alice", user_tokens),
        (conversation_id, number, 1, "assistant", answer, None, None, bot_tokens),
    ]


async def time_window(path: Path, conversation_id: int, repeats: int) -> float:
    """Median milliseconds of ``build_window`` over ``repeats`` runs (after one warm-up)."""
    store = await SqliteStore.open(path)
    counter = TokenCounter()
    try:
        await store.build_window(conversation_id, BUDGET_TOKENS, counter, ["You are toolcord."])
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            await store.build_window(conversation_id, BUDGET_TOKENS, counter, ["You are toolcord."])
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        await store.close()
    return statistics.median(samples)


async def measure(folder: Path, repeats: int = REPEATS) -> dict[str, float]:
    """Build both databases in ``folder`` and time the window on each."""
    results: dict[str, float] = {}
    for turns in SIZES:
        path = folder / f"bench_{turns}.db"
        await (await SqliteStore.open(path)).close()
        conversation_id = fill(path, turns)
        results[f"turns_{turns}_ms"] = round(await time_window(path, conversation_id, repeats), 3)
    ratio = results[f"turns_{SIZES[1]}_ms"] / results[f"turns_{SIZES[0]}_ms"]
    results["context_build_ratio"] = round(ratio, 3)
    return results


def run(repeats: int = REPEATS) -> dict[str, float]:
    """Run the benchmark in a temporary folder; print and return the figures."""
    with tempfile.TemporaryDirectory(prefix="toolcord-bench-") as folder:
        results = asyncio.run(measure(Path(folder), repeats))
    print(json.dumps(results))
    return results


def main() -> None:
    """Command line: ``python -m tests.bench.context_build [--repeats N]``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    run(parser.parse_args().repeats)


if __name__ == "__main__":
    main()
