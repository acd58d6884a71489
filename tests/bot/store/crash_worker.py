"""Crash harness: a process the crash tests kill with SIGKILL at random moments.

``exchanges`` mode runs a stream of exchanges (begin -> complete with fake
sent message ids and usage) and prints ``ACK <source id> <exchange id>`` after each commit.
``migrate`` mode applies a slow extra migration (one past the shipped ones) to a migrated store.

Run from the repository root: ``python -m tests.bot.store.crash_worker exchanges --db PATH``.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot.store.migrations import Migration, load_migrations
from bot.store.models import Usage
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore

from .helpers import answer_with_tool, user

SENT_BASE = 10**12
CONVERSATIONS = 5
BULK_ROWS = 200_000
SLOW_SQL = {
    "sqlite": (
        "CREATE TABLE crash_bulk (n INTEGER PRIMARY KEY, filler TEXT NOT NULL);\n"
        "INSERT INTO crash_bulk (n, filler) WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL "
        f"SELECT n + 1 FROM c WHERE n < {BULK_ROWS}) SELECT n, hex(randomblob(16)) FROM c;\n"
        "CREATE INDEX crash_bulk_filler ON crash_bulk (filler);\n"
    ),
    "postgres": (
        "CREATE TABLE crash_bulk (n BIGINT PRIMARY KEY, filler TEXT NOT NULL);\n"
        "INSERT INTO crash_bulk SELECT n, md5(n::text) FROM generate_series(1, "
        f"{BULK_ROWS}) AS n;\n"
        "CREATE INDEX crash_bulk_filler ON crash_bulk (filler);\n"
    ),
}


def sent_ids(source: int) -> list[int]:
    """The fake Discord message ids 'sent' for the exchange of ``source``."""
    return [SENT_BASE + source * 10, SENT_BASE + source * 10 + 1]


def slow_migrations(backend: str) -> list[Migration]:
    """The shipped migrations plus a slow next version (a bulk table and an index)."""
    shipped = load_migrations("sqlite" if backend == "sqlite" else "postgres")
    return [*shipped, Migration(shipped[-1].version + 1, "crash_bulk", SLOW_SQL[backend])]


async def run_exchanges(db: Path, start: int, count: int | None = None) -> None:
    """Begin and complete exchanges, acknowledging each commit on stdout.

    Runs forever (until killed), or for ``count`` source ids and then prints ``DONE``.
    """
    store = await SqliteStore.open(db)
    conversations = [
        await store.get_or_create_conversation(
            f"guild:1:channel:{number}", guild_id=1, channel_id=number, thread_id=None, user_id=1
        )
        for number in range(CONVERSATIONS)
    ]
    print("READY", flush=True)
    source = start
    while count is None or source < start + count:
        conversation = conversations[source % CONVERSATIONS]
        question = user(f"question {source}", source, author=source % 7)
        exchange = await store.begin_exchange(conversation.id, question)
        if exchange is not None:
            await store.complete_exchange(
                exchange.id,
                answer_with_tool(str(source)),
                sent_ids(source),
                Usage("gpt-4o-mini", 100, 10),
            )
            print(f"ACK {source} {exchange.id}", flush=True)
        source += 1
    await store.close()
    print("DONE", flush=True)


async def run_migration(db: str, schema: str | None) -> None:
    """Open the store with the slow extra migration; print DONE when it is applied."""
    print("READY", flush=True)
    store: SqliteStore | PostgresStore
    if schema is None:
        store = await SqliteStore.open(db, migrations=slow_migrations("sqlite"))
    else:
        migrations = slow_migrations("postgres")
        store = await PostgresStore.open(db, schema=schema, migrations=migrations)
    print("DONE", flush=True)
    await store.close()


def main() -> None:
    """Parse the command line and run one mode."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["exchanges", "migrate"])
    parser.add_argument("--db", required=True, help="SQLite file, or a PostgreSQL DSN")
    parser.add_argument("--schema", help="PostgreSQL schema (migrate mode)")
    parser.add_argument("--start", type=int, default=1, help="first source message id")
    parser.add_argument("--count", type=int, help="stop after this many source ids")
    options = parser.parse_args()
    if options.mode == "exchanges":
        asyncio.run(run_exchanges(Path(options.db), options.start, options.count))
    else:
        asyncio.run(run_migration(options.db, options.schema))


if __name__ == "__main__":
    main()
