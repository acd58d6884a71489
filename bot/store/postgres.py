"""The PostgreSQL conversation store (asyncpg), for several processes sharing one database.

Same contract as the SQLite store. Concurrency comes from the server: each write is one
transaction on a pooled connection; an exchange row is locked (``FOR UPDATE``) while it changes,
and unique keys (conversation key, source message id, ledger key) decide races.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bot.store import knowledge_postgres, records
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
from bot.store.postgres_base import (
    EXCHANGE_COLUMNS,
    TURN_COLUMNS,
    Database,
    conversation_from,
    create_pool,
    exchange_from,
    ledger_from,
    migrate,
    row_count,
    turn_from,
)
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

IMAGE_COLUMNS = "id, mime, width, height, size, caption"
INSERT_IMAGE = (
    "INSERT INTO images (conversation_id, id, mime, width, height, size, data, caption, "
    "original, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
    "ON CONFLICT (conversation_id, id) DO NOTHING"
)
SAVE_IMAGE = (
    "INSERT INTO images (conversation_id, id, mime, width, height, size, data, caption, "
    "original, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
    "ON CONFLICT (conversation_id, id) DO UPDATE SET "
    "original = COALESCE(images.original, excluded.original), "
    "caption = CASE WHEN images.caption = '' THEN excluded.caption ELSE images.caption END"
)
# Images no turn of their conversation refers to any more (after a user's turns were deleted).
UNREFERENCED_IMAGES = (
    "DELETE FROM images WHERE conversation_id = ANY($1::bigint[]) AND NOT EXISTS (SELECT 1 "
    "FROM turns t WHERE t.conversation_id = images.conversation_id "
    "AND strpos(t.parts::text, images.id) > 0)"
)


class PostgresStore:
    """Conversation store in PostgreSQL. Open with ``PostgresStore.open`` (it migrates)."""

    backend = "postgres"

    def __init__(
        self,
        database: Database,
        *,
        owner: str,
        counter: TokenCounter,
        clock: Callable[[], datetime],
    ) -> None:
        self.owner = owner
        self.counter = counter
        self._db = database
        self._clock = clock

    @classmethod
    async def open(
        cls,
        dsn: str,
        *,
        owner: str = "main",
        counter: TokenCounter | None = None,
        clock: Callable[[], datetime] = records.utc_now,
        schema: str | None = None,
        migrations: Sequence[Migration] | None = None,
    ) -> PostgresStore:
        """Connect to ``dsn`` (in ``schema``, created if missing) and migrate.

        Args:
            dsn: ``postgresql://user@host:port/database``.
            owner: Names this process (its shard range), so ``recover`` touches only its own.
            counter: Token counter for the estimates stored with turns.
            clock: Source of "now" (tests pass a fake).
            schema: Schema to keep the tables in; default: the server's ``search_path``.
            migrations: Schema migrations (tests pass their own); default: the shipped ones.
        """
        where = _redact(dsn) + (f" (schema {schema})" if schema else "")
        steps = list(migrations) if migrations is not None else load_migrations("postgres")
        pool = await create_pool(dsn, schema, where)
        try:
            await migrate(pool, steps, where)
        except BaseException:
            await pool.close()
            raise
        database = Database(pool, where)
        return cls(database, owner=owner, counter=counter or TokenCounter(), clock=clock)

    async def close(self) -> None:
        """Close the pool (waits for connections in use to be released)."""
        await self._db.pool.close()

    async def schema_version(self) -> int:
        """The schema version of the database."""
        row = await self._db.fetchrow("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        return int(row[0]) if row else 0

    # -- conversations ----------------------------------------------------------------------

    async def get_conversation(self, key: str) -> Conversation | None:
        """The conversation with ``key``, or ``None``."""
        row = await self._db.fetchrow("SELECT * FROM conversations WHERE key = $1", key)
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
        now = self._clock()
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO conversations (key, guild_id, channel_id, thread_id, user_id, "
                "private_user_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) "
                "ON CONFLICT (key) DO NOTHING",
                key,
                guild_id,
                channel_id,
                thread_id,
                user_id,
                private_user_id(key),
                now,
            )
            row = await db.fetchrow("SELECT * FROM conversations WHERE key = $1", key)
        assert row is not None
        return conversation_from(row)

    async def set_overrides(self, conversation_id: int, changes: Mapping[str, Any]) -> JsonDict:
        """Merge ``changes`` into the conversation's overrides (``None`` removes a key)."""
        async with self._db.transaction() as db:
            row = await db.fetchrow(
                "SELECT overrides FROM conversations WHERE id = $1 FOR UPDATE", conversation_id
            )
            if row is None:
                raise KeyError(f"no conversation {conversation_id}")
            merged = records.merge_overrides(row["overrides"], changes)
            await db.execute(
                "UPDATE conversations SET overrides = $1, updated_at = $2 WHERE id = $3",
                merged,
                self._clock(),
                conversation_id,
            )
        return merged

    async def conversation_for_message(self, discord_message_id: int) -> Conversation | None:
        """The conversation a Discord message (the user's or the bot's) belongs to."""
        row = await self._db.fetchrow(
            "SELECT c.* FROM message_links l JOIN conversations c ON c.id = l.conversation_id "
            "WHERE l.message_id = $1",
            discord_message_id,
        )
        return conversation_from(row) if row else None

    # -- exchanges --------------------------------------------------------------------------

    async def begin_exchange(self, conversation_id: int, turn: UserTurn) -> Exchange | None:
        """Store a user turn as a pending exchange; ``None`` if its message was seen before."""
        now = self._clock()
        turn, images = records.with_image_refs(turn)
        estimate = records.user_turn_estimate(self.counter, turn)
        source = turn.source_message_id
        async with self._db.transaction() as db:
            if source is not None and await db.fetchval(
                "SELECT 1 FROM message_links WHERE message_id = $1", source
            ):
                return None
            exchange_id = await db.fetchval(
                "INSERT INTO exchanges (conversation_id, user_id, owner, status, "
                "source_message_id, created_at) VALUES ($1, $2, $3, 'pending', $4, $5) "
                "ON CONFLICT (source_message_id) DO NOTHING RETURNING id",
                conversation_id,
                turn.author_id,
                self.owner,
                source,
                now,
            )
            if exchange_id is None:
                return None
            turn_id = await db.fetchval(
                "INSERT INTO turns (conversation_id, exchange_id, seq, role, content, parts, "
                "author_id, author_name, status, token_estimate, source_message_id, created_at) "
                "VALUES ($1, $2, 0, 'user', $3, $4, $5, $6, 'pending', $7, $8, $9) RETURNING id",
                conversation_id,
                exchange_id,
                turn.content,
                list(turn.parts),
                turn.author_id,
                turn.author_name,
                estimate,
                source,
                now,
            )
            if source is not None:
                await _link(db, conversation_id, exchange_id, [source], "source")
            if images:
                await db.executemany(
                    INSERT_IMAGE, [_image_row(conversation_id, image, now) for image in images]
                )
            await _touch(db, conversation_id, now)
        return Exchange(int(exchange_id), conversation_id, int(turn_id), source)

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
        now = self._clock()
        turns, images = records.new_turns_with_image_refs(turns)
        estimates = [records.new_turn_estimate(self.counter, turn) for turn in turns]
        async with self._db.transaction() as db:
            row = await _pending(db, exchange_id, "completed")
            conversation_id = row["conversation_id"]
            sent = records.unique_ids(row["sent_message_ids"], sent_message_ids)
            await db.executemany(
                "INSERT INTO turns (conversation_id, exchange_id, seq, role, content, name, "
                "tool_calls, tool_call_id, status, token_estimate, prompt_tokens, "
                "completion_tokens, sent_message_ids, created_at, parts) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'complete', $9, $10, $11, $12, $13, "
                "$14)",
                [
                    (
                        conversation_id,
                        exchange_id,
                        seq,
                        turn.role,
                        turn.content,
                        turn.name,
                        list(turn.tool_calls),
                        turn.tool_call_id,
                        estimate,
                        turn.prompt_tokens,
                        turn.completion_tokens,
                        sent if seq == len(turns) else [],
                        now,
                        stored_parts(turn),
                    )
                    for seq, (turn, estimate) in enumerate(zip(turns, estimates, strict=True), 1)
                ],
            )
            if images:
                await db.executemany(
                    INSERT_IMAGE, [_image_row(conversation_id, image, now) for image in images]
                )
            await _finish(db, exchange_id, "complete", None, sent, now)
            await _link(db, conversation_id, exchange_id, sent, "sent")
            if usage is not None:
                owners = (row["user_id"], row["guild_id"], conversation_id, exchange_id)
                await _insert_usage(db, usage, owners, now)
            await _touch(db, conversation_id, now)

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
        now = self._clock()
        async with self._db.transaction() as db:
            row = await _pending(db, exchange_id, f"marked {status}")
            sent = records.unique_ids(row["sent_message_ids"], sent_message_ids)
            await _finish(db, exchange_id, status, error, sent, now)
            await _link(db, row["conversation_id"], exchange_id, sent, "sent")

    async def recover(self) -> list[InterruptedExchange]:
        """Mark this owner's pending exchanges interrupted and return them (once)."""
        async with self._db.transaction() as db:
            rows = await db.fetch(
                "WITH done AS (UPDATE exchanges SET status = 'interrupted', error = $2, "
                "finished_at = $3 WHERE status = 'pending' AND owner = $1 RETURNING id, "
                "conversation_id, user_id, source_message_id, sent_message_ids, created_at) "
                "SELECT d.*, c.key, c.guild_id, c.channel_id, c.thread_id FROM done d "
                "JOIN conversations c ON c.id = d.conversation_id ORDER BY d.id",
                self.owner,
                records.INTERRUPTED_BY_RESTART,
                self._clock(),
            )
            await db.execute(
                "UPDATE turns SET status = 'interrupted' WHERE exchange_id = ANY($1::bigint[])",
                [row["id"] for row in rows],
            )
        return [_interrupted(row) for row in rows]

    async def get_exchange(self, exchange_id: int) -> ExchangeRecord | None:
        """The stored state of an exchange, or ``None``."""
        row = await self._db.fetchrow(
            f"SELECT {EXCHANGE_COLUMNS} FROM exchanges WHERE id = $1", exchange_id
        )
        return exchange_from(row) if row else None

    async def exchange_turns(self, exchange_id: int) -> list[Turn]:
        """The turns of one exchange in order."""
        rows = await self._db.fetch(
            f"SELECT {TURN_COLUMNS} FROM turns WHERE exchange_id = $1 ORDER BY seq", exchange_id
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

        Images beyond ``max_image_bytes`` (as data URLs, newest first) become a short note.
        """
        current, before = await self._current(conversation_id, current_exchange_id)
        window = await assemble_window(
            self._older(conversation_id, before, counter.raw_budget(budget_tokens, model)),
            current,
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
        rows = await self._db.fetch(
            f"SELECT {IMAGE_COLUMNS}, data FROM images WHERE conversation_id = $1 "
            "AND id = ANY($2::text[])",
            conversation_id,
            list(ids),
        )
        return {row["id"]: _image(row, bytes(row["data"])) for row in rows}

    # -- images -----------------------------------------------------------------------------

    async def list_images(self, conversation_id: int) -> list[StoredImage]:
        """The images stored for a conversation, oldest first, without their bytes."""
        rows = await self._db.fetch(
            f"SELECT {IMAGE_COLUMNS} FROM images WHERE conversation_id = $1 "
            "ORDER BY created_at, id",
            conversation_id,
        )
        return [_image(row) for row in rows]

    async def get_image(self, conversation_id: int, image_id: str) -> StoredImage | None:
        """One image of a conversation with its bytes (and a tool's original), or ``None``."""
        row = await self._db.fetchrow(
            f"SELECT {IMAGE_COLUMNS}, data, original FROM images WHERE conversation_id = $1 "
            "AND id = $2",
            conversation_id,
            image_id,
        )
        if row is None:
            return None
        original = bytes(row["original"]) if row["original"] is not None else None
        return replace(_image(row, bytes(row["data"])), original=original)

    async def save_image(self, conversation_id: int, image: StoredImage) -> None:
        """Store an image before a turn refers to it (a tool's result, with its original)."""
        async with self._db.transaction() as db:
            await db.execute(SAVE_IMAGE, *_image_row(conversation_id, image, self._clock()))

    async def _current(
        self, conversation_id: int, exchange_id: int | None
    ) -> tuple[list[Turn], int | None]:
        if exchange_id is None:
            row = await self._db.fetchrow(
                "SELECT id, status FROM exchanges WHERE conversation_id = $1 "
                "ORDER BY id DESC LIMIT 1",
                conversation_id,
            )
            if row is None or row["status"] != "pending":
                return [], None
            exchange_id = int(row["id"])
        rows = await self._db.fetch(
            f"SELECT {TURN_COLUMNS} FROM turns WHERE exchange_id = $1 AND conversation_id = $2 "
            "AND role = 'user' ORDER BY seq",
            exchange_id,
            conversation_id,
        )
        return [turn_from(row) for row in rows], exchange_id

    async def _older(
        self, conversation_id: int, before: int | None, room_tokens: int
    ) -> AsyncGenerator[list[ExchangeTurns], None]:
        """Complete exchanges older than ``before``, newest first, in budget-sized batches."""
        limit = FIRST_BATCH
        seen_tokens = seen_exchanges = 0
        cursor = before if before is not None else 2**63 - 1
        while True:
            rows = await self._db.fetch(
                f"SELECT {TURN_COLUMNS} FROM turns WHERE exchange_id IN ("
                "SELECT id FROM exchanges WHERE conversation_id = $1 AND status = 'complete' "
                "AND id < $2 ORDER BY id DESC LIMIT $3) ORDER BY exchange_id DESC, seq",
                conversation_id,
                cursor,
                limit,
            )
            batch = group_turns(turn_from(row) for row in rows)
            if batch:
                yield batch
            if len(batch) < limit:
                return
            cursor = batch[-1].exchange_id
            seen_tokens += batch_tokens(batch)
            seen_exchanges += len(batch)
            limit = next_batch_size(room_tokens, seen_tokens, seen_exchanges, limit)

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
        now = self._clock()
        async with self._db.transaction() as db:
            await _insert_usage(db, usage, owners, now)

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
            ("created_at >=", since),
        ]
        present = [(test, value) for test, value in conditions if value is not None]
        where = [f"{test} ${index}" for index, (test, _) in enumerate(present, start=1)]
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        row = await self._db.fetchrow(
            "SELECT COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), "
            "0), COALESCE(SUM(images), 0), COALESCE(SUM(reasoning_tokens), 0), "
            f"COALESCE(SUM(tool_schema_tokens), 0) FROM usage {clause}",
            *[value for _, value in present],
        )
        assert row is not None
        return UsageTotals(*(int(value) for value in row))

    # -- settings ---------------------------------------------------------------------------

    async def get_settings(self, scope: str, scope_id: int) -> JsonDict:
        """Settings stored for a scope (``"guild"``, ``"channel"``, ``"user"``) and id."""
        row = await self._db.fetchrow(
            "SELECT data FROM settings WHERE scope = $1 AND scope_id = $2", scope, scope_id
        )
        return dict(row["data"]) if row else {}

    async def set_settings(self, scope: str, scope_id: int, data: Mapping[str, Any]) -> None:
        """Replace the settings of a scope and id."""
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO settings (scope, scope_id, data, updated_at) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (scope, scope_id) DO UPDATE SET data = excluded.data, "
                "updated_at = excluded.updated_at",
                scope,
                scope_id,
                dict(data),
                self._clock(),
            )

    # -- user data --------------------------------------------------------------------------

    async def clear_conversation(self, key: str) -> bool:
        """Delete a conversation and everything in it; ``False`` if there was none."""
        async with self._db.transaction() as db:
            status = await db.execute("DELETE FROM conversations WHERE key = $1", key)
        return row_count(status) > 0

    def database(self) -> Database:
        """The pool wrapper, for narrow stores on the same database (``bot.store.knowledge``)."""
        return self._db

    async def forget_user(
        self, user_id: int, *, keep_usage_since: datetime | None = None
    ) -> ForgetReport:
        """Delete every row authored by or keyed to ``user_id``.

        Private conversations of the user go whole; in shared ones the user's exchanges (their
        turns and the answers to them) go. Usage rows stay for guild totals: those since
        ``keep_usage_since`` under the user's id (counts only), older ones without the user.
        Dead rows leave the disk when PostgreSQL vacuums the tables.
        """
        async with self._db.transaction() as db:
            return await _forget(db, user_id, keep_usage_since)

    async def mark_messages_deleted(self, message_ids: Sequence[int]) -> int:
        """Redact the turns deleted Discord messages carried (see the protocol)."""
        ids = sorted({int(message_id) for message_id in message_ids})
        if not ids:
            return 0
        async with self._db.transaction() as db:
            status = await db.execute(
                "UPDATE turns SET content = $1, parts = '[]', deleted_at = $2 "
                "WHERE deleted_at IS NULL AND ((role = 'user' AND source_message_id = ANY($3)) "
                "OR (role = 'assistant' AND content IS NOT NULL AND content != '' "
                "AND exchange_id IN (SELECT exchange_id FROM message_links "
                "WHERE kind = 'sent' AND message_id = ANY($3))))",
                records.DELETED_TEXT,
                self._clock(),
                ids,
            )
        return row_count(status)

    async def export_conversation(
        self, key: str, *, only_user_id: int | None = None
    ) -> JsonDict | None:
        """A JSON-serialisable document of a conversation, or ``None`` if there is none."""
        conversation = await self.get_conversation(key)
        if conversation is None:
            return None
        exchange_rows = await self._db.fetch(
            f"SELECT {EXCHANGE_COLUMNS} FROM exchanges WHERE conversation_id = $1 ORDER BY id",
            conversation.id,
        )
        turn_rows = await self._db.fetch(
            f"SELECT {TURN_COLUMNS} FROM turns WHERE conversation_id = $1 "
            "ORDER BY exchange_id, seq",
            conversation.id,
        )
        return records.export_document(
            conversation,
            [exchange_from(row) for row in exchange_rows],
            [turn_from(row) for row in turn_rows],
            only_user_id=only_user_id,
        )

    # -- tool ledger ------------------------------------------------------------------------

    async def claim(self, key: str, tool: str, arguments: str) -> LedgerRecord | None:
        """Claim a side effect: ``None`` if newly claimed (go ahead), else the earlier record."""
        async with self._db.transaction() as db:
            claimed = await db.fetchval(
                "INSERT INTO tool_ledger (key, tool, arguments, status, conversation_id, "
                "created_at) VALUES ($1, $2, $3, 'attempted', "
                "(SELECT id FROM conversations WHERE id = $4), $5) "
                "ON CONFLICT (key) DO NOTHING RETURNING key",
                key,
                tool,
                arguments,
                records.ledger_conversation(key),
                self._clock(),
            )
            if claimed is not None:
                return None
            row = await db.fetchrow("SELECT * FROM tool_ledger WHERE key = $1", key)
        assert row is not None
        return ledger_from(row)

    async def complete(self, key: str, result: str, status: str = "ok") -> None:
        """Mark a claimed side effect completed with its result and outcome ``status``."""
        now = self._clock()
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO tool_ledger (key, tool, arguments, status, result, outcome, "
                "created_at, completed_at) VALUES ($1, '', '', 'completed', $2, $3, $4, $4) "
                "ON CONFLICT (key) DO UPDATE SET status = 'completed', result = excluded.result, "
                "outcome = excluded.outcome, completed_at = excluded.completed_at",
                key,
                result,
                status,
                now,
            )

    async def prune_ledger(self, before: datetime) -> int:
        """Delete ledger rows created before ``before``; returns how many."""
        async with self._db.transaction() as db:
            status = await db.execute("DELETE FROM tool_ledger WHERE created_at < $1", before)
        return row_count(status)


def _redact(dsn: str) -> str:
    """The DSN without a password, for messages."""
    head, at, tail = dsn.rpartition("@")
    if not at:
        return dsn
    scheme, _, credentials = head.partition("://")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{tail}"


async def _pending(db: asyncpg.Connection, exchange_id: int, action: str) -> asyncpg.Record:
    row = await db.fetchrow(
        "SELECT e.status, e.conversation_id, e.user_id, e.sent_message_ids, c.guild_id "
        "FROM exchanges e JOIN conversations c ON c.id = e.conversation_id WHERE e.id = $1 "
        "FOR UPDATE OF e",
        exchange_id,
    )
    records.require_pending(exchange_id, row["status"] if row else None, action)
    assert row is not None
    return row


async def _finish(
    db: asyncpg.Connection,
    exchange_id: int,
    status: str,
    error: str | None,
    sent: Sequence[int],
    now: datetime,
) -> None:
    await db.execute(
        "UPDATE exchanges SET status = $1, error = $2, sent_message_ids = $3, finished_at = $4 "
        "WHERE id = $5",
        status,
        error,
        list(sent),
        now,
        exchange_id,
    )
    await db.execute("UPDATE turns SET status = $1 WHERE exchange_id = $2", status, exchange_id)


async def _link(
    db: asyncpg.Connection,
    conversation_id: int,
    exchange_id: int,
    message_ids: Sequence[int],
    kind: str,
) -> None:
    await db.executemany(
        "INSERT INTO message_links (message_id, conversation_id, exchange_id, kind) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (message_id) DO NOTHING",
        [(int(message_id), conversation_id, exchange_id, kind) for message_id in message_ids],
    )


async def _touch(db: asyncpg.Connection, conversation_id: int, now: datetime) -> None:
    await db.execute("UPDATE conversations SET updated_at = $1 WHERE id = $2", now, conversation_id)


async def _insert_usage(
    db: asyncpg.Connection,
    usage: Usage,
    owners: tuple[int | None, int | None, int | None, int | None],
    now: datetime,
) -> None:
    """Insert a usage row; ``owners`` is (user, guild, conversation, exchange)."""
    await db.execute(
        "INSERT INTO usage (user_id, guild_id, conversation_id, exchange_id, model, "
        "prompt_tokens, completion_tokens, images, reasoning_tokens, tool_schema_tokens, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        *owners,
        usage.model,
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.images,
        usage.reasoning_tokens,
        usage.tool_schema_tokens,
        now,
    )


async def _forget(
    db: asyncpg.Connection, user_id: int, keep_since: datetime | None
) -> ForgetReport:
    await knowledge_postgres.forget_in_transaction(db, user_id)  # memories, summaries (issue 18)
    owned = "SELECT id FROM conversations WHERE private_user_id = $1"
    turns = await db.fetchval(
        f"SELECT COUNT(*) FROM turns WHERE conversation_id IN ({owned}) "
        "OR exchange_id IN (SELECT id FROM exchanges WHERE user_id = $1) OR author_id = $1",
        user_id,
    )
    exchanges = await db.fetchval(
        f"SELECT COUNT(*) FROM exchanges WHERE conversation_id IN ({owned}) OR user_id = $1",
        user_id,
    )
    await db.execute(
        "DELETE FROM tool_ledger WHERE EXISTS (SELECT 1 FROM exchanges e WHERE e.user_id = $1 "
        "AND (tool_ledger.key LIKE e.conversation_id::text || '/' || e.source_message_id::text "
        "|| '/%' OR tool_ledger.key LIKE e.conversation_id::text || '/' || e.id::text || '/%'))",
        user_id,
    )
    touched = await db.fetch(
        "SELECT conversation_id FROM exchanges WHERE user_id = $1 "
        "UNION SELECT conversation_id FROM turns WHERE author_id = $1",
        user_id,
    )
    await db.execute("DELETE FROM turns WHERE author_id = $1", user_id)
    await db.execute("DELETE FROM exchanges WHERE user_id = $1", user_id)
    await db.execute(UNREFERENCED_IMAGES, [row[0] for row in touched])
    conversations = await db.execute(
        "DELETE FROM conversations WHERE private_user_id = $1", user_id
    )
    await db.execute("UPDATE conversations SET user_id = NULL WHERE user_id = $1", user_id)
    since = keep_since if keep_since is not None else datetime.max.replace(tzinfo=UTC)
    kept = await db.execute(
        "UPDATE usage SET conversation_id = NULL, exchange_id = NULL, model = $1 "
        "WHERE user_id = $2 AND created_at >= $3",
        records.FORGOTTEN_MODEL,
        user_id,
        since,
    )
    usage = await db.execute(
        "UPDATE usage SET user_id = NULL WHERE user_id = $1 AND created_at < $2", user_id, since
    )
    settings = await db.execute(
        "DELETE FROM settings WHERE scope = 'user' AND scope_id = $1", user_id
    )
    return ForgetReport(
        conversations=row_count(conversations),
        exchanges=int(exchanges),
        turns=int(turns),
        settings=row_count(settings),
        usage_anonymised=row_count(usage),
        usage_kept=row_count(kept),
    )


def _image(row: asyncpg.Record, data: bytes = b"") -> StoredImage:
    return StoredImage(
        row["id"], row["mime"], row["width"], row["height"], row["size"], data, row["caption"]
    )


def _image_row(conversation_id: int, image: StoredImage, now: Any) -> tuple[Any, ...]:
    i = image
    values = (i.image_id, i.mime, i.width, i.height, i.size, i.data, i.caption, i.original)
    return (conversation_id, *values, now)


def _interrupted(row: asyncpg.Record) -> InterruptedExchange:
    return InterruptedExchange(
        exchange_id=row["id"],
        conversation_id=row["conversation_id"],
        conversation_key=row["key"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        thread_id=row["thread_id"],
        user_id=row["user_id"],
        source_message_id=row["source_message_id"],
        sent_message_ids=list(row["sent_message_ids"]),
        created_at=row["created_at"],
    )
