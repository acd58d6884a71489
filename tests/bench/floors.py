"""What the parts below toolcord cost on this machine, measured alone.

- one model round through toolcord's engine and OpenAI client (the SDK, its HTTP transport and the
  SSE parsing) against the same model server, nothing else running in the process;
- one durable SQLite commit (WAL, ``synchronous=FULL``) on the disk the bench's data folders use.

With the echo round trip (discord.py's floor) they bound how fast a chat turn can be.
"""

from __future__ import annotations

import contextlib
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.engine import TurnRequest, run_turn
from bot.engine.client import make_openai_client
from bot.settings import DEFAULT_SYSTEM_PROMPT, OpenAISettings

from .bots import model

WARMUP_ROUNDS = 20
COMMITS = 200


async def model_round(rounds: int) -> dict[str, float]:
    """CPU and wall milliseconds of one streamed model round through ``run_turn``."""
    async with model("text") as server:
        settings = OpenAISettings(base_url=server.base_url, max_retries=0)
        client = make_openai_client(settings, "sk-bench-emulator-key-000000000")
        messages = [
            {"role": "system", "content": DEFAULT_SYSTEM_PROMPT},
            {"role": "user", "content": "alice: hello there"},
        ]
        try:
            for _ in range(WARMUP_ROUNDS):
                await _one_round(client, messages)
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(rounds):
                await _one_round(client, messages)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        finally:
            await client.close()
    return {
        "engine_model_round_cpu_ms": round(cpu * 1000 / rounds, 3),
        "engine_model_round_wall_ms": round(wall * 1000 / rounds, 3),
    }


async def _one_round(client: Any, messages: list[dict[str, Any]]) -> None:
    async for _event in run_turn(client, TurnRequest(model="gpt-4o", messages=messages)):
        pass


def sqlite_commit(commits: int = COMMITS) -> dict[str, float]:
    """Milliseconds of a small write transaction committed with ``synchronous=FULL`` in WAL."""
    with tempfile.TemporaryDirectory(prefix="toolcord-bench-") as folder:
        path = Path(folder) / "commit.db"
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
            samples = []
            for number in range(commits):
                started = time.perf_counter()
                db.execute("BEGIN IMMEDIATE")
                db.execute("INSERT INTO t (body) VALUES (?)", (f"turn {number} " * 8,))
                db.execute("COMMIT")
                samples.append((time.perf_counter() - started) * 1000)
    ordered = sorted(samples)
    return {
        "sqlite_full_commit_p50_ms": round(statistics.median(samples), 3),
        "sqlite_full_commit_p90_ms": round(ordered[int(0.9 * len(ordered))], 3),
    }


async def measure(rounds: int) -> dict[str, float]:
    """Both floors."""
    return {**await model_round(rounds), **sqlite_commit()}


def chat_floor(echo: dict[str, Any], floor: dict[str, float]) -> dict[str, float]:
    """The least a chat turn can cost in CPU, over an echo round trip's, measured in this run.

    A chat turn takes in a message and sends a reply, as the echo bot does, and makes at least one
    model round through the OpenAI SDK, which the echo bot does not: even if toolcord itself cost
    nothing, its turn would cost ``(echo + model round) / echo`` times an echo round trip in CPU.
    """
    model_ms = floor["engine_model_round_cpu_ms"]
    echo_cpu_ms = echo["sequential"]["cpu_ms_per_turn_bot"]
    floor_ms = echo_cpu_ms + model_ms
    # In flight, a bot on one core does at most 1/cpu turns a second: the best ratio of rates.
    echo_pipelined_ms = echo["pipelined"]["cpu_ms_per_turn_bot"]
    if echo_cpu_ms <= 0 or echo_pipelined_ms <= 0:  # too few turns for /proc's clock ticks
        return {}
    return {
        "floor_chat_turn_cpu_ms": round(floor_ms, 3),
        "floor_seq_cpu_cost_ratio": round(floor_ms / echo_cpu_ms, 3),
        "floor_pipelined_throughput_ratio": round(
            echo_pipelined_ms / (echo_pipelined_ms + model_ms), 3
        ),
    }
