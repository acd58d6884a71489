"""The SQLite conversation store (aiosqlite), the default: one file in the data folder.

Writes go through one connection behind an ``asyncio.Lock`` in ``BEGIN IMMEDIATE``
transactions, group-committed (``sqlite_writer.Writer``); reads use a second, read-only
connection, which WAL lets run beside the writer. Each method's statements run in one trip to
the connection's thread (``Writer.run``, ``on_thread``): the functions at the end of this module
are those bodies, synchronous on the ``sqlite3.Connection``.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store import knowledge_sqlite, records
from bot.store.errors import make_data_folder
from bot.store.images import DEFAULT_MAX_IMAGE_BYTES, resolve_images
from bot.store.keys import private_user_id
from bot.store.migrations import Migration, load_migrations
from bot.store.models import (
    Conversation,
    EndStatus,
    Exchange,
    ExchangeRecord,
    ForgetReport,
    InterruptedExchange,
    JsonDict,
    LedgerRecord,
    NewTurn,
    StoredImage,
    Turn,
    Usage,
    UsageTotals,
    UserTurn,
)
from bot.store.sqlite_base import (
    EXCHANGE_COLUMNS,
    TURN_COLUMNS,
    connect,
    conversation_from,
    exchange_from,
    fetch_all,
    fetch_one,
    from_ms,
    ledger_from,
    migrate,
    on_thread,
    select_all,
    select_one,
    to_ms,
    turn_from,
)
from bot.store.sqlite_writer import Writer
from bot.store.tokens import TokenCounter
from bot.store.window import (
    DEFAULT_MAX_TOOL_RESULT_TOKENS,
    FIRST_BATCH,
    ExchangeTurns,
    assemble_window,
    batch_tokens,
    next_batch_size,
    stored_parts,
)
from bot.store.window import group_by_exchange as group_turns

CHECKPOINT_TRIES = 50
IMAGE_COLUMNS = "id, mime, width, height, size, caption"
NO_EXCHANGE = 2**63 - 1
# Images no turn of their conversation refers to any more (after a user's turns were deleted).
UNREFERENCED_IMAGES = (
    "DELETE FROM images WHERE conversation_id = ? AND NOT EXISTS (SELECT 1 FROM turns t "
    "WHERE t.conversation_id = images.conversation_id AND instr(t.parts, images.id) > 0)"
)
INSERT_IMAGE = (
    "INSERT INTO images (conversation_id, id, mime, width, height, size, data, caption, "
    "original, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (conversation_id, id) DO NOTHING"
)
SAVE_IMAGE = (
    "INSERT INTO images (conversation_id, id, mime, width, height, size, data, caption, "
    "original, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (conversation_id, id) DO UPDATE SET "
    "original = COALESCE(images.original, excluded.original), "
    "caption = CASE WHEN images.caption = '' THEN excluded.caption ELSE images.caption END"
)
OLDER_TURNS = (
    f"SELECT {TURN_COLUMNS} FROM turns WHERE exchange_id IN ("
    "SELECT id FROM exchanges WHERE conversation_id = ? AND status = 'complete' "
    "AND id < ? ORDER BY id DESC LIMIT ?) ORDER BY exchange_id DESC, seq"
)


class SqliteStore:
    """Conversation store in one SQLite file. Open with ``SqliteStore.open`` (it migrates)."""

    backend = "sqlite"

    def __init__(
        self,
        path: Path,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        *,
        owner: str,
        counter: TokenCounter,
        clock: Callable[[], datetime],
    ) -> None:
        self.path = path
        self.owner = owner
        self.counter = counter
        self._writer = Writer(writer, str(path))
        self._reader = reader
        self._clock = clock

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        owner: str = "main",
        counter: TokenCounter | None = None,
        clock: Callable[[], datetime] = records.utc_now,
        migrations: Sequence[Migration] | None = None,
    ) -> SqliteStore:
        """Open (creating if needed) and migrate the store at ``path``.

        Args:
            path: The database file; its folder is created if missing.
            owner: Names this process's exchanges, so ``recover`` touches only its own.
            counter: Token counter for the estimates stored with turns.
            clock: Source of "now" (tests pass a fake).
            migrations: Schema migrations (tests pass their own); default: the shipped ones.
        """
        path = Path(path)
        make_data_folder(path.parent)
        steps = list(migrations) if migrations is not None else load_migrations("sqlite")
        writer = await connect(path)
        try:
            await migrate(writer, steps, str(path))
            reader = await connect(path, reader=True)
        except BaseException:
            await writer.close()
            raise
        return cls(
            path, writer, reader, owner=owner, counter=counter or TokenCounter(), clock=clock
        )

    def connections(self) -> tuple[Writer, aiosqlite.Connection]:
        """The writer and reader, for narrow stores on the same file (``bot.store.knowledge``)."""
        return self._writer, self._reader

    async def close(self) -> None:
        """Close both connections (waits for a running write to finish)."""
        async with self._writer.exclusive() as db:
            await db.close()
        await self._reader.close()

    async def schema_version(self) -> int:
        """The schema version of the open database."""
        row = await fetch_one(self._reader, "PRAGMA user_version")
        return int(row[0]) if row else 0

    # -- conversations ----------------------------------------------------------------------

    async def get_conversation(self, key: str) -> Conversation | None:
        """The conversation with ``key``, or ``None``."""
        row = await fetch_one(self._reader, "SELECT * FROM conversations WHERE key = ?", (key,))
        return conversation_from(row) if row else None

    async def get_or_create_conversation(
        self,
        key: str,
        *,
        guild_id: int | None,
        channel_id: int | None,
        thread_id: int | None,
        user_id: int | None,
    ) -> Conversation:
        """The conversation with ``key``, created with these ids if it does not exist."""
        found = await self.get_conversation(key)
        if found:
            return found
        now = to_ms(self._clock())
        values = (key, guild_id, channel_id, thread_id, user_id, private_user_id(key), now, now)
        row = await self._writer.run(lambda db: _create_conversation(db, values))
        return conversation_from(row)

    async def set_overrides(self, conversation_id: int, changes: Mapping[str, Any]) -> JsonDict:
        """Merge ``changes`` into the conversation's overrides (``None`` removes a key)."""
        now = to_ms(self._clock())
        return await self._writer.run(lambda db: _set_overrides(db, conversation_id, changes, now))

    async def conversation_for_message(self, discord_message_id: int) -> Conversation | None:
        """The conversation a Discord message (the user's or the bot's) belongs to."""
        row = await fetch_one(
            self._reader,
            "SELECT c.* FROM message_links l JOIN conversations c ON c.id = l.conversation_id "
            "WHERE l.message_id = ?",
            (discord_message_id,),
        )
        return conversation_from(row) if row else None

    # -- exchanges --------------------------------------------------------------------------

    async def begin_exchange(self, conversation_id: int, turn: UserTurn) -> Exchange | None:
        """Store a user turn as a pending exchange; ``None`` if its message was seen before."""
        now = to_ms(self._clock())
        turn, images = records.with_image_refs(turn)
        estimate = records.user_turn_estimate(self.counter, turn)
        return await self._writer.run(
            lambda db: _begin_exchange(db, conversation_id, turn, self.owner, estimate, now, images)
        )

    async def complete_exchange(
        self,
        exchange_id: int,
        turns: Sequence[NewTurn],
        sent_message_ids: Sequence[int] = (),
        usage: Usage | None = None,
    ) -> None:
        """In one transaction: append the turns, mark complete, record sent ids and usage.

        Raises:
            ValueError: The turns leave a tool call unanswered (see ``check_new_turns``).
            ExchangeStateError: The exchange is not pending (completed twice, failed, ...).
        """
        records.check_new_turns(turns)
        now = to_ms(self._clock())
        turns, images = records.new_turns_with_image_refs(turns)
        estimates = [records.new_turn_estimate(self.counter, turn) for turn in turns]
        finished = _Finished(exchange_id, "complete", None, sent_message_ids, now)
        await self._writer.run(
            lambda db: _complete_exchange(db, finished, turns, estimates, usage, images)
        )

    async def fail_exchange(
        self,
        exchange_id: int,
        status: EndStatus,
        error: str,
        sent_message_ids: Sequence[int] = (),
    ) -> None:
        """Mark a pending exchange failed or interrupted; its output stays out of windows."""
        if status not in ("failed", "interrupted"):
            raise ValueError("status must be 'failed' or 'interrupted'")
        finished = _Finished(exchange_id, status, error, sent_message_ids, to_ms(self._clock()))
        await self._writer.run(lambda db: _fail_exchange(db, finished))

    async def recover(self) -> list[InterruptedExchange]:
        """Mark this owner's pending exchanges interrupted and return them (once)."""
        now = to_ms(self._clock())
        rows = await self._writer.run(lambda db: _recover(db, self.owner, now))
        return [_interrupted(row) for row in rows]

    async def get_exchange(self, exchange_id: int) -> ExchangeRecord | None:
        """The stored state of an exchange, or ``None``."""
        row = await fetch_one(
            self._reader, f"SELECT {EXCHANGE_COLUMNS} FROM exchanges WHERE id = ?", (exchange_id,)
        )
        return exchange_from(row) if row else None

    async def exchange_turns(self, exchange_id: int) -> list[Turn]:
        """The turns of one exchange in order."""
        rows = await fetch_all(
            self._reader,
            f"SELECT {TURN_COLUMNS} FROM turns WHERE exchange_id = ? ORDER BY seq",
            (exchange_id,),
        )
        return [turn_from(row) for row in rows]

    # -- the context window -----------------------------------------------------------------

    async def build_window(
        self,
        conversation_id: int,
        budget_tokens: int,
        counter: TokenCounter,
        system_messages: Sequence[Mapping[str, Any] | str] = (),
        *,
        current_exchange_id: int | None = None,
        model: str | None = None,
        max_tool_result_tokens: int = DEFAULT_MAX_TOOL_RESULT_TOKENS,
        max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
    ) -> list[dict[str, Any]]:
        """OpenAI chat messages for the conversation under ``budget_tokens`` (see window.py).

        Args:
            current_exchange_id: The exchange being answered; default: the newest exchange if
                it is pending. Its user turn comes last; only older complete exchanges precede.
            max_image_bytes: Image bytes (as data URLs) the messages may carry, newest first;
                older images become a short note (see ``bot.store.images``).
        """
        current, first = await on_thread(
            self._reader, lambda db: _window_rows(db, conversation_id, current_exchange_id)
        )
        window = await assemble_window(
            self._older(conversation_id, first, counter.raw_budget(budget_tokens, model)),
            [turn_from(row) for row in current],
            budget_tokens,
            counter,
            system_messages,
            model=model,
            max_tool_result_tokens=max_tool_result_tokens,
        )
        return await resolve_images(
            window.messages,
            max_image_bytes,
            lambda ids: self._images(conversation_id, ids),
        )

    async def _images(self, conversation_id: int, ids: Sequence[str]) -> dict[str, StoredImage]:
        marks = ", ".join("?" for _ in ids)
        rows = await fetch_all(
            self._reader,
            f"SELECT {IMAGE_COLUMNS}, data FROM images WHERE conversation_id = ? "
            f"AND id IN ({marks})",
            (conversation_id, *ids),
        )
        return {row["id"]: _image(row, bytes(row["data"])) for row in rows}

    # -- images -----------------------------------------------------------------------------

    async def list_images(self, conversation_id: int) -> list[StoredImage]:
        """The images stored for a conversation, oldest first, without their bytes."""
        rows = await fetch_all(
            self._reader,
            f"SELECT {IMAGE_COLUMNS} FROM images WHERE conversation_id = ? ORDER BY created_at, id",
            (conversation_id,),
        )
        return [_image(row) for row in rows]

    async def get_image(self, conversation_id: int, image_id: str) -> StoredImage | None:
        """One image of a conversation with its bytes (and a tool's original), or ``None``."""
        row = await fetch_one(
            self._reader,
            f"SELECT {IMAGE_COLUMNS}, data, original FROM images WHERE conversation_id = ? "
            "AND id = ?",
            (conversation_id, image_id),
        )
        if row is None:
            return None
        original = bytes(row["original"]) if row["original"] is not None else None
        return replace(_image(row, bytes(row["data"])), original=original)

    async def save_image(self, conversation_id: int, image: StoredImage) -> None:
        """Store an image before a turn refers to it (a tool's result, with its original)."""
        now = to_ms(self._clock())
        await self._writer.run(
            lambda db: db.execute(SAVE_IMAGE, _image_row(conversation_id, image, now))
        )

    async def _older(
        self, conversation_id: int, first: list[sqlite3.Row], room_tokens: int
    ) -> AsyncGenerator[list[ExchangeTurns], None]:
        """Complete exchanges older than the current one, newest first, in budget-sized batches.

        ``first`` is the first batch's rows (read with the current exchange, in one trip).
        """
        limit = FIRST_BATCH
        seen_tokens = seen_exchanges = 0
        rows = first
        while True:
            batch = group_turns(turn_from(row) for row in rows)
            if batch:
                yield batch
            if len(batch) < limit:
                return
            seen_tokens += batch_tokens(batch)
            seen_exchanges += len(batch)
            limit = next_batch_size(room_tokens, seen_tokens, seen_exchanges, limit)
            params = (conversation_id, batch[-1].exchange_id, limit)
            rows = await fetch_all(self._reader, OLDER_TURNS, params)

    # -- usage ------------------------------------------------------------------------------

    async def record_usage(
        self,
        usage: Usage,
        *,
        user_id: int | None,
        guild_id: int | None,
        conversation_id: int | None = None,
        exchange_id: int | None = None,
    ) -> None:
        """Add a usage ledger row outside an exchange (e.g. an image a tool generated)."""
        owners = (user_id, guild_id, conversation_id, exchange_id)
        now = to_ms(self._clock())
        await self._writer.run(lambda db: _insert_usage(db, usage, owners, now))

    async def usage_totals(
        self,
        *,
        user_id: int | None = None,
        guild_id: int | None = None,
        since: datetime | None = None,
        model: str | None = None,
    ) -> UsageTotals:
        """Sum the usage ledger, filtered by user, guild, start time and model."""
        conditions = [
            ("user_id =", user_id),
            ("guild_id =", guild_id),
            ("model =", model),
            ("created_at >=", None if since is None else to_ms(since)),
        ]
        present = [(test, value) for test, value in conditions if value is not None]
        where = [f"{test} ?" for test, _ in present]
        params = [value for _, value in present]
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        row = await fetch_one(
            self._reader,
            "SELECT COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), "
            "0), COALESCE(SUM(images), 0), COALESCE(SUM(reasoning_tokens), 0), "
            f"COALESCE(SUM(tool_schema_tokens), 0) FROM usage {clause}",
            params,
        )
        assert row is not None
        return UsageTotals(*(int(value) for value in row))

    # -- settings ---------------------------------------------------------------------------

    async def get_settings(self, scope: str, scope_id: int) -> JsonDict:
        """Settings stored for a scope (``"guild"``, ``"channel"``, ``"user"``) and id."""
        row = await fetch_one(
            self._reader,
            "SELECT data FROM settings WHERE scope = ? AND scope_id = ?",
            (scope, scope_id),
        )
        return dict(json.loads(row["data"])) if row else {}

    async def set_settings(self, scope: str, scope_id: int, data: Mapping[str, Any]) -> None:
        """Replace the settings of a scope and id."""
        values = (scope, scope_id, records.to_json(dict(data)), to_ms(self._clock()))
        await self._writer.run(
            lambda db: db.execute(
                "INSERT INTO settings (scope, scope_id, data, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (scope, scope_id) DO UPDATE SET data = excluded.data, "
                "updated_at = excluded.updated_at",
                values,
            )
        )

    # -- user data --------------------------------------------------------------------------

    async def clear_conversation(self, key: str) -> bool:
        """Delete a conversation and everything in it; ``False`` if there was none."""
        deleted = await self._writer.run(
            lambda db: db.execute("DELETE FROM conversations WHERE key = ?", (key,)).rowcount > 0
        )
        if deleted:
            await self._scrub()
        return deleted

    async def forget_user(
        self, user_id: int, *, keep_usage_since: datetime | None = None
    ) -> ForgetReport:
        """Delete every row authored by or keyed to ``user_id``; leave no copy in the WAL.

        Private conversations of the user go whole; in shared ones the user's exchanges (their
        turns and the answers to them) go. Usage rows stay for guild totals: those since
        ``keep_usage_since`` under the user's id (counts only), older ones without the user.
        """
        since = to_ms(keep_usage_since) if keep_usage_since is not None else None
        report = await self._writer.run(lambda db: _forget(db, user_id, since))
        await self._scrub()
        return report

    async def export_conversation(
        self, key: str, *, only_user_id: int | None = None
    ) -> JsonDict | None:
        """A JSON-serialisable document of a conversation, or ``None`` if there is none."""
        found = await on_thread(self._reader, lambda db: _export_rows(db, key))
        if found is None:
            return None
        conversation, exchanges, turns = found
        return records.export_document(
            conversation_from(conversation),
            [exchange_from(row) for row in exchanges],
            [turn_from(row) for row in turns],
            only_user_id=only_user_id,
        )

    async def mark_messages_deleted(self, message_ids: Sequence[int]) -> int:
        """Redact the turns deleted Discord messages carried (see the protocol)."""
        ids = sorted({int(message_id) for message_id in message_ids})
        if not ids:
            return 0
        now = to_ms(self._clock())
        redacted = await self._writer.run(lambda db: _redact(db, ids, now))
        if redacted:
            await self._scrub()
        return redacted

    async def _scrub(self) -> None:
        """Checkpoint the WAL into the database and truncate it (deleted text leaves it)."""
        async with self._writer.exclusive() as db:
            for _ in range(CHECKPOINT_TRIES):
                row = await fetch_one(db, "PRAGMA wal_checkpoint(TRUNCATE)")
                if row is not None and row[0] == 0:
                    return
                await asyncio.sleep(0.02)

    # -- tool ledger ------------------------------------------------------------------------

    async def claim(self, key: str, tool: str, arguments: str) -> LedgerRecord | None:
        """Claim a side effect: ``None`` if newly claimed (go ahead), else the earlier record."""
        values = (key, tool, arguments, records.ledger_conversation(key), to_ms(self._clock()))
        row = await self._writer.run(lambda db: _claim(db, values))
        return ledger_from(row) if row is not None else None

    async def complete(self, key: str, result: str, status: str = "ok") -> None:
        """Mark a claimed side effect completed with its result and outcome ``status``."""
        now = to_ms(self._clock())
        await self._writer.run(
            lambda db: db.execute(
                "INSERT INTO tool_ledger (key, tool, arguments, status, result, outcome, "
                "created_at, completed_at) VALUES (?, '', '', 'completed', ?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET status = 'completed', result = excluded.result, "
                "outcome = excluded.outcome, completed_at = excluded.completed_at",
                (key, result, status, now, now),
            )
        )

    async def prune_ledger(self, before: datetime) -> int:
        """Delete ledger rows created before ``before``; returns how many."""
        cutoff = to_ms(before)
        return await self._writer.run(
            lambda db: int(
                db.execute("DELETE FROM tool_ledger WHERE created_at < ?", (cutoff,)).rowcount
            )
        )


@dataclass(frozen=True, slots=True)
class _Finished:
    """How a pending exchange ends: status, error and the sent message ids the caller adds."""

    exchange_id: int
    status: str
    error: str | None
    sent_message_ids: Sequence[int]
    now: int


# The functions below run on a connection's thread (``Writer.run`` or ``on_thread``).


def _create_conversation(db: sqlite3.Connection, values: tuple[Any, ...]) -> sqlite3.Row:
    db.execute(
        "INSERT INTO conversations (key, guild_id, channel_id, thread_id, user_id, "
        "private_user_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (key) DO NOTHING",
        values,
    )
    row = select_one(db, "SELECT * FROM conversations WHERE key = ?", (values[0],))
    assert row is not None
    return row


def _set_overrides(
    db: sqlite3.Connection, conversation_id: int, changes: Mapping[str, Any], now: int
) -> JsonDict:
    row = select_one(db, "SELECT overrides FROM conversations WHERE id = ?", (conversation_id,))
    if row is None:
        raise KeyError(f"no conversation {conversation_id}")
    merged = records.merge_overrides(json.loads(row["overrides"]), changes)
    db.execute(
        "UPDATE conversations SET overrides = ?, updated_at = ? WHERE id = ?",
        (records.to_json(merged), now, conversation_id),
    )
    return merged


def _begin_exchange(
    db: sqlite3.Connection,
    conversation_id: int,
    turn: UserTurn,
    owner: str,
    estimate: int,
    now: int,
    images: Sequence[StoredImage],
) -> Exchange | None:
    source = turn.source_message_id
    if source is not None and select_one(
        db, "SELECT 1 FROM message_links WHERE message_id = ?", (source,)
    ):
        return None
    cursor = db.execute(
        "INSERT INTO exchanges (conversation_id, user_id, owner, status, "
        "source_message_id, created_at) VALUES (?, ?, ?, 'pending', ?, ?)",
        (conversation_id, turn.author_id, owner, source, now),
    )
    exchange_id = int(cursor.lastrowid or 0)
    cursor = db.execute(
        "INSERT INTO turns (conversation_id, exchange_id, seq, role, content, parts, "
        "author_id, author_name, status, token_estimate, source_message_id, created_at) "
        "VALUES (?, ?, 0, 'user', ?, ?, ?, ?, 'pending', ?, ?, ?)",
        (
            conversation_id,
            exchange_id,
            turn.content,
            records.to_json(turn.parts),
            turn.author_id,
            turn.author_name,
            estimate,
            source,
            now,
        ),
    )
    if source is not None:
        _link(db, conversation_id, exchange_id, [source], "source")
    if images:
        db.executemany(
            INSERT_IMAGE,
            [_image_row(conversation_id, image, now) for image in images],
        )
    _touch(db, conversation_id, now)
    return Exchange(exchange_id, conversation_id, int(cursor.lastrowid or 0), source)


def _complete_exchange(
    db: sqlite3.Connection,
    finished: _Finished,
    turns: Sequence[NewTurn],
    estimates: Sequence[int],
    usage: Usage | None,
    images: Sequence[StoredImage] = (),
) -> None:
    exchange_id, now = finished.exchange_id, finished.now
    row = _pending(db, exchange_id, "completed")
    conversation_id = row["conversation_id"]
    sent = records.unique_ids(json.loads(row["sent_message_ids"]), finished.sent_message_ids)
    db.executemany(
        "INSERT INTO turns (conversation_id, exchange_id, seq, role, content, name, "
        "tool_calls, tool_call_id, status, token_estimate, prompt_tokens, "
        "completion_tokens, sent_message_ids, created_at, parts) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'complete', ?, ?, ?, ?, ?, ?)",
        [
            (
                conversation_id,
                exchange_id,
                seq,
                turn.role,
                turn.content,
                turn.name,
                records.to_json(turn.tool_calls),
                turn.tool_call_id,
                estimate,
                turn.prompt_tokens,
                turn.completion_tokens,
                records.to_json(sent if seq == len(turns) else []),
                now,
                records.to_json(stored_parts(turn)),
            )
            for seq, (turn, estimate) in enumerate(zip(turns, estimates, strict=True), 1)
        ],
    )
    if images:
        db.executemany(INSERT_IMAGE, [_image_row(conversation_id, i, now) for i in images])
    _finish(db, exchange_id, "complete", None, sent, now)
    _link(db, conversation_id, exchange_id, sent, "sent")
    if usage is not None:
        owners = (row["user_id"], row["guild_id"], conversation_id, exchange_id)
        _insert_usage(db, usage, owners, now)
    _touch(db, conversation_id, now)


def _fail_exchange(db: sqlite3.Connection, finished: _Finished) -> None:
    exchange_id = finished.exchange_id
    row = _pending(db, exchange_id, f"marked {finished.status}")
    sent = records.unique_ids(json.loads(row["sent_message_ids"]), finished.sent_message_ids)
    _finish(db, exchange_id, finished.status, finished.error, sent, finished.now)
    _link(db, row["conversation_id"], exchange_id, sent, "sent")


def _recover(db: sqlite3.Connection, owner: str, now: int) -> list[sqlite3.Row]:
    rows = select_all(
        db,
        "SELECT e.id, e.conversation_id, e.user_id, e.source_message_id, "
        "e.sent_message_ids, e.created_at, c.key, c.guild_id, c.channel_id, c.thread_id "
        "FROM exchanges e JOIN conversations c ON c.id = e.conversation_id "
        "WHERE e.status = 'pending' AND e.owner = ? ORDER BY e.id",
        (owner,),
    )
    for row in rows:
        sent = json.loads(row["sent_message_ids"])
        _finish(db, row["id"], "interrupted", records.INTERRUPTED_BY_RESTART, sent, now)
    return rows


def _window_rows(
    db: sqlite3.Connection, conversation_id: int, exchange_id: int | None
) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
    """The current exchange's user turns and the first batch of older exchanges' turns.

    ``exchange_id`` ``None``: the newest exchange, if it is pending.
    """
    if exchange_id is None:
        row = select_one(
            db,
            "SELECT id, status FROM exchanges WHERE conversation_id = ? ORDER BY id DESC LIMIT 1",
            (conversation_id,),
        )
        if row is None or row["status"] != "pending":
            return [], select_all(db, OLDER_TURNS, (conversation_id, NO_EXCHANGE, FIRST_BATCH))
        exchange_id = int(row["id"])
    current = select_all(
        db,
        f"SELECT {TURN_COLUMNS} FROM turns WHERE exchange_id = ? AND conversation_id = ? "
        "AND role = 'user' ORDER BY seq",
        (exchange_id, conversation_id),
    )
    return current, select_all(db, OLDER_TURNS, (conversation_id, exchange_id, FIRST_BATCH))


def _export_rows(
    db: sqlite3.Connection, key: str
) -> tuple[sqlite3.Row, list[sqlite3.Row], list[sqlite3.Row]] | None:
    """A conversation's row, its exchanges' and its turns' (``None`` if there is none)."""
    conversation = select_one(db, "SELECT * FROM conversations WHERE key = ?", (key,))
    if conversation is None:
        return None
    exchanges = select_all(
        db,
        f"SELECT {EXCHANGE_COLUMNS} FROM exchanges WHERE conversation_id = ? ORDER BY id",
        (conversation["id"],),
    )
    turns = select_all(
        db,
        f"SELECT {TURN_COLUMNS} FROM turns WHERE conversation_id = ? ORDER BY exchange_id, seq",
        (conversation["id"],),
    )
    return conversation, exchanges, turns


def _claim(db: sqlite3.Connection, values: tuple[Any, ...]) -> sqlite3.Row | None:
    """The earlier ledger row for the key, or ``None`` after inserting an attempted one."""
    row = select_one(db, "SELECT * FROM tool_ledger WHERE key = ?", (values[0],))
    if row is not None:
        return row
    db.execute(
        "INSERT INTO tool_ledger (key, tool, arguments, status, conversation_id, "
        "created_at) VALUES (?, ?, ?, 'attempted', "
        "(SELECT id FROM conversations WHERE id = ?), ?)",
        values,
    )
    return None


def _pending(db: sqlite3.Connection, exchange_id: int, action: str) -> Any:
    row = select_one(
        db,
        "SELECT e.status, e.conversation_id, e.user_id, e.sent_message_ids, c.guild_id "
        "FROM exchanges e JOIN conversations c ON c.id = e.conversation_id WHERE e.id = ?",
        (exchange_id,),
    )
    records.require_pending(exchange_id, row["status"] if row else None, action)
    return row


def _finish(
    db: sqlite3.Connection,
    exchange_id: int,
    status: str,
    error: str | None,
    sent: Sequence[int],
    now: int,
) -> None:
    db.execute(
        "UPDATE exchanges SET status = ?, error = ?, sent_message_ids = ?, finished_at = ? "
        "WHERE id = ?",
        (status, error, records.to_json(list(sent)), now, exchange_id),
    )
    db.execute("UPDATE turns SET status = ? WHERE exchange_id = ?", (status, exchange_id))


def _link(
    db: sqlite3.Connection,
    conversation_id: int,
    exchange_id: int,
    message_ids: Sequence[int],
    kind: str,
) -> None:
    db.executemany(
        "INSERT INTO message_links (message_id, conversation_id, exchange_id, kind) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
        [(int(message_id), conversation_id, exchange_id, kind) for message_id in message_ids],
    )


def _touch(db: sqlite3.Connection, conversation_id: int, now: int) -> None:
    db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))


def _insert_usage(
    db: sqlite3.Connection,
    usage: Usage,
    owners: tuple[int | None, int | None, int | None, int | None],
    now: int,
) -> None:
    """Insert a usage row; ``owners`` is (user, guild, conversation, exchange)."""
    db.execute(
        "INSERT INTO usage (user_id, guild_id, conversation_id, exchange_id, model, "
        "prompt_tokens, completion_tokens, images, reasoning_tokens, tool_schema_tokens, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*owners, *_usage_values(usage), now),
    )


def _usage_values(usage: Usage) -> tuple[str, int, int, int, int, int]:
    """A usage row's model and counts, in the column order of the inserts."""
    return (
        usage.model,
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.images,
        usage.reasoning_tokens,
        usage.tool_schema_tokens,
    )


def _redact(db: sqlite3.Connection, ids: list[int], now: int) -> int:
    """Redact the user turns of these source messages and the answers sent as these messages."""
    marks = ", ".join("?" * len(ids))
    cursor = db.execute(
        "UPDATE turns SET content = ?, parts = '[]', deleted_at = ? WHERE deleted_at IS NULL AND "
        f"((role = 'user' AND source_message_id IN ({marks})) OR (role = 'assistant' "
        "AND content IS NOT NULL AND content != '' AND exchange_id IN (SELECT exchange_id FROM "
        f"message_links WHERE kind = 'sent' AND message_id IN ({marks}))))",
        (records.DELETED_TEXT, now, *ids, *ids),
    )
    return int(cursor.rowcount)


def _forget(db: sqlite3.Connection, user_id: int, keep_since: int | None) -> ForgetReport:
    knowledge_sqlite.forget_in_transaction(db, user_id)  # memories, summaries (issue 18)
    owned = "SELECT id FROM conversations WHERE private_user_id = ?"
    authored = "SELECT id FROM exchanges WHERE user_id = ?"
    counted = select_one(
        db,
        f"SELECT COUNT(*) FROM turns WHERE conversation_id IN ({owned}) "
        f"OR exchange_id IN ({authored}) OR author_id = ?",
        (user_id, user_id, user_id),
    )
    turns = int(counted[0]) if counted else 0
    exchanges = select_one(
        db,
        f"SELECT COUNT(*) FROM exchanges WHERE conversation_id IN ({owned}) OR user_id = ?",
        (user_id, user_id),
    )
    db.execute(
        "DELETE FROM tool_ledger WHERE EXISTS (SELECT 1 FROM exchanges e WHERE e.user_id = ? "
        "AND (tool_ledger.key LIKE e.conversation_id || '/' || e.source_message_id || '/%' "
        "OR tool_ledger.key LIKE e.conversation_id || '/' || e.id || '/%'))",
        (user_id,),
    )
    touched = select_all(
        db,
        "SELECT conversation_id FROM exchanges WHERE user_id = ? "
        "UNION SELECT conversation_id FROM turns WHERE author_id = ?",
        (user_id, user_id),
    )
    db.execute("DELETE FROM turns WHERE author_id = ?", (user_id,))
    db.execute("DELETE FROM exchanges WHERE user_id = ?", (user_id,))
    db.executemany(UNREFERENCED_IMAGES, [(row[0],) for row in touched])
    conversations = db.execute("DELETE FROM conversations WHERE private_user_id = ?", (user_id,))
    db.execute("UPDATE conversations SET user_id = NULL WHERE user_id = ?", (user_id,))
    since = keep_since if keep_since is not None else 2**62
    kept = db.execute(
        "UPDATE usage SET conversation_id = NULL, exchange_id = NULL, model = ? "
        "WHERE user_id = ? AND created_at >= ?",
        (records.FORGOTTEN_MODEL, user_id, since),
    )
    usage = db.execute(
        "UPDATE usage SET user_id = NULL WHERE user_id = ? AND created_at < ?", (user_id, since)
    )
    settings = db.execute("DELETE FROM settings WHERE scope = 'user' AND scope_id = ?", (user_id,))
    return ForgetReport(
        conversations=int(conversations.rowcount),
        exchanges=int(exchanges[0]) if exchanges else 0,
        turns=turns,
        settings=int(settings.rowcount),
        usage_anonymised=int(usage.rowcount),
        usage_kept=int(kept.rowcount),
    )


def _image(row: Any, data: bytes = b"") -> StoredImage:
    return StoredImage(
        row["id"], row["mime"], row["width"], row["height"], row["size"], data, row["caption"]
    )


def _image_row(conversation_id: int, image: StoredImage, now: int) -> tuple[Any, ...]:
    i = image
    values = (i.image_id, i.mime, i.width, i.height, i.size, i.data, i.caption, i.original)
    return (conversation_id, *values, now)


def _interrupted(row: Any) -> InterruptedExchange:
    created = from_ms(row["created_at"])
    assert created is not None
    return InterruptedExchange(
        exchange_id=row["id"],
        conversation_id=row["conversation_id"],
        conversation_key=row["key"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        thread_id=row["thread_id"],
        user_id=row["user_id"],
        source_message_id=row["source_message_id"],
        sent_message_ids=json.loads(row["sent_message_ids"]),
        created_at=created,
    )
