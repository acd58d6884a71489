"""S1: kill -9 a process writing exchanges at random moments; nothing acknowledged is lost.

The worker (crash_worker.py) prints ``ACK <source> <exchange>`` after each commit. After every
kill the test restarts the store as the bot would (``recover()``), then checks the file:
integrity, every acknowledged exchange complete with its turns, sent ids and usage, nothing
half-written, nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import sqlite3
import sys
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from bot.store.sqlite import SqliteStore

from .crash_worker import sent_ids

ROOT = Path(__file__).resolve().parents[3]
KILLS = int(os.environ.get("TOOLCORD_CRASH_KILLS", "40"))
READY_TIMEOUT = 20


@dataclass
class Tally:
    """What the rounds found, summed."""

    kills: int = 0
    acknowledged: int = 0
    lost: set[int] = field(default_factory=set)
    torn: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    integrity_ok: int = 0
    interrupted: int = 0
    recovered: set[int] = field(default_factory=set)


async def start_worker(*arguments: str) -> asyncio.subprocess.Process:
    """Start crash_worker and wait for its READY line."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bot.store.crash_worker",
        *arguments,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), READY_TIMEOUT)
    if line.strip() != b"READY":
        process.kill()
        _, error = await process.communicate()
        raise AssertionError(f"worker did not start: {line!r} {error.decode()[-2000:]}")
    return process


async def kill_and_collect(process: asyncio.subprocess.Process) -> list[str]:
    """SIGKILL the worker (unless it already ended) and return every line it printed."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGKILL)
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode in (-signal.SIGKILL, 0)
    return output.decode().splitlines()


def integrity(path: Path) -> str:
    """``PRAGMA integrity_check`` of the file (``"ok"`` when sound)."""
    with closing(sqlite3.connect(path)) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def check_file(path: Path, acknowledged: dict[int, int], tally: Tally) -> None:
    """Every exchange is complete-with-everything or interrupted-with-nothing; no repeats."""
    with closing(sqlite3.connect(path)) as db:
        exchanges = db.execute(
            "SELECT id, status, source_message_id, sent_message_ids FROM exchanges"
        ).fetchall()
        turns = dict(db.execute("SELECT exchange_id, COUNT(*) FROM turns GROUP BY exchange_id"))
        roles = dict(
            db.execute(
                "SELECT exchange_id, group_concat(role || ':' || status, ',') FROM "
                "(SELECT * FROM turns ORDER BY exchange_id, seq) GROUP BY exchange_id"
            )
        )
        usage = dict(db.execute("SELECT exchange_id, COUNT(*) FROM usage GROUP BY exchange_id"))
        links = Counter(row[0] for row in db.execute("SELECT message_id FROM message_links"))
    sources = Counter(row[2] for row in exchanges)
    tally.duplicates += [
        f"source {source} x{count}" for source, count in sources.items() if count > 1
    ]
    tally.duplicates += [f"link {link} x{count}" for link, count in links.items() if count > 1]
    by_source = {row[2]: row for row in exchanges}
    for exchange_id, status, source, sent_json in exchanges:
        sent = json.loads(sent_json)
        if status == "complete":
            expected = "user:complete,assistant:complete,tool:complete,assistant:complete"
            if roles.get(exchange_id) != expected or sent != sent_ids(source):
                tally.torn.append(f"complete {exchange_id}: {roles.get(exchange_id)} {sent}")
            if usage.get(exchange_id, 0) != 1:
                tally.duplicates.append(f"usage rows for {exchange_id}: {usage.get(exchange_id)}")
        elif status == "interrupted":
            if turns.get(exchange_id) != 1 or roles.get(exchange_id) != "user:interrupted":
                tally.torn.append(f"interrupted {exchange_id}: {roles.get(exchange_id)}")
            if usage.get(exchange_id) or not set(sent) <= set(sent_ids(source)):
                tally.torn.append(f"interrupted {exchange_id} has usage or odd sent ids {sent}")
        else:
            tally.torn.append(f"exchange {exchange_id} left {status} after recover()")
    for source, exchange_id in acknowledged.items():
        row = by_source.get(source)
        if row is None or row[0] != exchange_id or row[1] != "complete":
            tally.lost.add(source)


async def restart(path: Path, tally: Tally) -> int:
    """Open the store as the bot does at start; returns the highest source id seen."""
    store = await SqliteStore.open(path)
    try:
        for item in await store.recover():
            if item.exchange_id in tally.recovered:
                tally.duplicates.append(f"exchange {item.exchange_id} recovered twice")
            tally.recovered.add(item.exchange_id)
            tally.interrupted += 1
    finally:
        await store.close()
    with closing(sqlite3.connect(path)) as db:
        return int(
            db.execute("SELECT COALESCE(MAX(source_message_id), 0) FROM exchanges").fetchone()[0]
        )


async def test_kill_9_loses_nothing_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    await (await SqliteStore.open(path)).close()
    random_delays = random.Random(20301)
    acknowledged: dict[int, int] = {}
    tally = Tally()
    highest = 0
    for _ in range(KILLS):
        start = max(1, highest - 3)
        process = await start_worker("exchanges", "--db", str(path), "--start", str(start))
        await asyncio.sleep(random_delays.uniform(0.02, 0.5))
        for line in await kill_and_collect(process):
            if line.startswith("ACK "):
                _, source, exchange_id = line.split()
                if int(source) in acknowledged:
                    tally.duplicates.append(f"source {source} acknowledged twice")
                acknowledged[int(source)] = int(exchange_id)
        tally.kills += 1
        if integrity(path) == "ok":
            tally.integrity_ok += 1
        highest = await restart(path, tally)
        check_file(path, acknowledged, tally)
    tally.acknowledged = len(acknowledged)
    print(
        f"\ncrash test: kills={tally.kills} acknowledged={tally.acknowledged} "
        f"lost={len(tally.lost)} torn={len(tally.torn)} duplicates={len(tally.duplicates)} "
        f"integrity_ok={tally.integrity_ok}/{tally.kills} interrupted_recovered={tally.interrupted}"
    )
    assert tally.acknowledged > tally.kills, "the worker barely ran; the test proves nothing"
    assert tally.lost == set()
    assert tally.torn == []
    assert tally.duplicates == []
    assert tally.integrity_ok == tally.kills


async def test_two_processes_write_one_file_without_busy_errors(tmp_path: Path) -> None:
    """S3: BEGIN IMMEDIATE + busy_timeout make a second writer wait instead of failing."""
    path = tmp_path / "shared.db"
    await (await SqliteStore.open(path)).close()
    per_process = 150
    workers = [
        await start_worker(
            "exchanges", "--db", str(path), "--start", str(start), "--count", str(per_process)
        )
        for start in (1, 1_000_001)
    ]
    results = await asyncio.gather(
        *[asyncio.wait_for(worker.communicate(), 120) for worker in workers]
    )
    for worker, (output, errors) in zip(workers, results, strict=True):
        assert worker.returncode == 0, errors.decode()[-2000:]
        lines = output.decode().splitlines()
        assert lines[-1] == "DONE" and len([x for x in lines if x.startswith("ACK")]) == per_process
    with closing(sqlite3.connect(path)) as db:
        complete = db.execute("SELECT COUNT(*) FROM exchanges WHERE status = 'complete'")
        assert complete.fetchone()[0] == 2 * per_process
        assert db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] == 5
