"""The write transactions of conversations and exchanges, as programs (``program``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.store import records
from bot.store.models import Exchange, JsonDict, NewTurn, StoredImage, Usage, UserTurn
from bot.store.sql.images import INSERT_IMAGE
from bot.store.sql.program import Dialect, Program, Statement, one, rows, run, run_many
from bot.store.sql.rows import TURN_COLUMNS, image_values
from bot.store.sql.usage import insert_usage
from bot.store.window import FIRST_BATCH, stored_parts

NO_EXCHANGE = 2**63 - 1
OLDER_TURNS = (
    f"SELECT {TURN_COLUMNS} FROM turns WHERE exchange_id IN ("
    "SELECT id FROM exchanges WHERE conversation_id = ? AND status = 'complete' "
    "AND id < ? ORDER BY id DESC LIMIT ?) ORDER BY exchange_id DESC, seq"
)
INSERT_TURN = (
    "INSERT INTO turns (conversation_id, exchange_id, seq, role, content, name, "
    "tool_calls, tool_call_id, status, token_estimate, prompt_tokens, "
    "completion_tokens, sent_message_ids, created_at, parts) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'complete', ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class Finished:
    """How a pending exchange ends: status, error and the sent message ids the caller adds."""

    exchange_id: int
    status: str
    error: str | None
    sent_message_ids: Sequence[int]
    now: Any


def create_conversation(values: tuple[Any, ...]) -> Program[Any]:
    """Insert the conversation unless its key exists; its row either way."""
    yield run(
        "INSERT INTO conversations (key, guild_id, channel_id, thread_id, user_id, "
        "private_user_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (key) DO NOTHING",
        *values,
    )
    row = yield one("SELECT * FROM conversations WHERE key = ?", values[0])
    assert row is not None
    return row


def set_overrides(
    d: Dialect, conversation_id: int, changes: Mapping[str, Any], now: Any
) -> Program[JsonDict]:
    """Merge ``changes`` into the stored overrides."""
    row = yield one(
        f"SELECT overrides FROM conversations WHERE id = ?{d.lock('conversations')}",
        conversation_id,
    )
    if row is None:
        raise KeyError(f"no conversation {conversation_id}")
    merged = records.merge_overrides(d.from_json(row["overrides"]), changes)
    yield run(
        "UPDATE conversations SET overrides = ?, updated_at = ? WHERE id = ?",
        d.json(merged),
        now,
        conversation_id,
    )
    return merged


@dataclass(frozen=True, slots=True)
class Beginning:
    """A user turn to store as a pending exchange, with what was computed for it."""

    conversation_id: int
    turn: UserTurn
    owner: str
    estimate: int
    now: Any
    images: Sequence[StoredImage]


def begin_exchange(d: Dialect, new: Beginning) -> Program[Exchange | None]:
    """Store a pending exchange and its user turn; ``None`` if the message was seen."""
    conversation_id, turn, now = new.conversation_id, new.turn, new.now
    source = turn.source_message_id
    if source is not None:
        seen = yield one("SELECT 1 FROM message_links WHERE message_id = ?", source)
        if seen:
            return None
    row = yield one(
        "INSERT INTO exchanges (conversation_id, user_id, owner, status, "
        "source_message_id, created_at) VALUES (?, ?, ?, 'pending', ?, ?) "
        "ON CONFLICT (source_message_id) DO NOTHING RETURNING id",
        conversation_id,
        turn.author_id,
        new.owner,
        source,
        now,
    )
    if row is None:
        return None
    exchange_id = int(row["id"])
    turn_row = yield one(
        "INSERT INTO turns (conversation_id, exchange_id, seq, role, content, parts, "
        "author_id, author_name, status, token_estimate, source_message_id, created_at) "
        "VALUES (?, ?, 0, 'user', ?, ?, ?, ?, 'pending', ?, ?, ?) RETURNING id",
        conversation_id,
        exchange_id,
        turn.content,
        d.json(list(turn.parts)),
        turn.author_id,
        turn.author_name,
        new.estimate,
        source,
        now,
    )
    if source is not None:
        yield link(conversation_id, exchange_id, [source], "source")
    if new.images:
        yield run_many(INSERT_IMAGE, [image_values(conversation_id, i, now) for i in new.images])
    yield touch(conversation_id, now)
    return Exchange(exchange_id, conversation_id, int(turn_row["id"]), source)


def complete_exchange(
    d: Dialect,
    finished: Finished,
    turns: Sequence[NewTurn],
    estimates: Sequence[int],
    usage: Usage | None,
    images: Sequence[StoredImage] = (),
) -> Program[None]:
    """Append the turns, mark the exchange complete, link sent ids, add usage."""
    exchange_id, now = finished.exchange_id, finished.now
    row = yield from pending(d, exchange_id, "completed")
    conversation_id = row["conversation_id"]
    sent = records.unique_ids(d.from_json(row["sent_message_ids"]), finished.sent_message_ids)
    yield run_many(
        INSERT_TURN,
        [
            (
                conversation_id,
                exchange_id,
                seq,
                turn.role,
                turn.content,
                turn.name,
                d.json(list(turn.tool_calls)),
                turn.tool_call_id,
                estimate,
                turn.prompt_tokens,
                turn.completion_tokens,
                d.json(sent if seq == len(turns) else []),
                now,
                d.json(stored_parts(turn)),
            )
            for seq, (turn, estimate) in enumerate(zip(turns, estimates, strict=True), 1)
        ],
    )
    if images:
        yield run_many(INSERT_IMAGE, [image_values(conversation_id, i, now) for i in images])
    yield from finish(d, exchange_id, "complete", None, sent, now)
    yield link(conversation_id, exchange_id, sent, "sent")
    if usage is not None:
        owners = (row["user_id"], row["guild_id"], conversation_id, exchange_id)
        yield insert_usage(usage, owners, now)
    yield touch(conversation_id, now)


def fail_exchange(d: Dialect, finished: Finished) -> Program[None]:
    """Mark a pending exchange failed or interrupted, keeping its sent ids."""
    exchange_id = finished.exchange_id
    row = yield from pending(d, exchange_id, f"marked {finished.status}")
    sent = records.unique_ids(d.from_json(row["sent_message_ids"]), finished.sent_message_ids)
    yield from finish(d, exchange_id, finished.status, finished.error, sent, finished.now)
    yield link(row["conversation_id"], exchange_id, sent, "sent")


def recover(d: Dialect, owner: str, now: Any) -> Program[list[Any]]:
    """Mark ``owner``'s pending exchanges interrupted; their rows (with the conversation's)."""
    found = yield rows(
        "SELECT e.id, e.conversation_id, e.user_id, e.source_message_id, "
        "e.sent_message_ids, e.created_at, c.key, c.guild_id, c.channel_id, c.thread_id "
        "FROM exchanges e JOIN conversations c ON c.id = e.conversation_id "
        f"WHERE e.status = 'pending' AND e.owner = ? ORDER BY e.id{d.lock('e')}",
        owner,
    )
    for row in found:
        sent = d.from_json(row["sent_message_ids"])
        yield from finish(d, row["id"], "interrupted", records.INTERRUPTED_BY_RESTART, sent, now)
    return list(found)


def window_rows(conversation_id: int, exchange_id: int | None) -> Program[tuple[Any, Any]]:
    """The current exchange's user turns and the first batch of older exchanges' turns.

    ``exchange_id`` ``None``: the newest exchange, if it is pending.
    """
    if exchange_id is None:
        row = yield one(
            "SELECT id, status FROM exchanges WHERE conversation_id = ? ORDER BY id DESC LIMIT 1",
            conversation_id,
        )
        if row is None or row["status"] != "pending":
            older = yield rows(OLDER_TURNS, conversation_id, NO_EXCHANGE, FIRST_BATCH)
            return [], older
        exchange_id = int(row["id"])
    current = yield rows(
        f"SELECT {TURN_COLUMNS} FROM turns WHERE exchange_id = ? AND conversation_id = ? "
        "AND role = 'user' ORDER BY seq",
        exchange_id,
        conversation_id,
    )
    older = yield rows(OLDER_TURNS, conversation_id, exchange_id, FIRST_BATCH)
    return current, older


def pending(d: Dialect, exchange_id: int, action: str) -> Program[Any]:
    """The exchange's row (locked where the dialect can), if it is pending; else an error."""
    row = yield one(
        "SELECT e.status, e.conversation_id, e.user_id, e.sent_message_ids, c.guild_id "
        "FROM exchanges e JOIN conversations c ON c.id = e.conversation_id "
        f"WHERE e.id = ?{d.lock('e')}",
        exchange_id,
    )
    records.require_pending(exchange_id, row["status"] if row else None, action)
    return row


def finish(
    d: Dialect, exchange_id: int, status: str, error: str | None, sent: Sequence[int], now: Any
) -> Program[None]:
    """Set the exchange's (and its turns') end status, error and sent ids."""
    yield run(
        "UPDATE exchanges SET status = ?, error = ?, sent_message_ids = ?, finished_at = ? "
        "WHERE id = ?",
        status,
        error,
        d.json(list(sent)),
        now,
        exchange_id,
    )
    yield run("UPDATE turns SET status = ? WHERE exchange_id = ?", status, exchange_id)


def link(
    conversation_id: int, exchange_id: int, message_ids: Sequence[int], kind: str
) -> Statement:
    """Link Discord message ids to the exchange (ids already linked stay as they are)."""
    return run_many(
        "INSERT INTO message_links (message_id, conversation_id, exchange_id, kind) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
        [(int(message_id), conversation_id, exchange_id, kind) for message_id in message_ids],
    )


def touch(conversation_id: int, now: Any) -> Statement:
    """Note the conversation changed."""
    return run("UPDATE conversations SET updated_at = ? WHERE id = ?", now, conversation_id)
