"""Stored rows as the store's models, for either dialect (``sqlite3.Row``/``asyncpg.Record``)."""

from __future__ import annotations

from typing import Any

from bot.store.models import (
    Conversation,
    ExchangeRecord,
    InterruptedExchange,
    LedgerRecord,
    StoredImage,
    Turn,
)
from bot.store.sql.program import Dialect

TURN_COLUMNS = (
    "id, conversation_id, exchange_id, seq, role, content, parts, author_id, author_name, name, "
    "tool_calls, tool_call_id, status, token_estimate, prompt_tokens, completion_tokens, "
    "source_message_id, sent_message_ids, created_at, deleted_at"
)
EXCHANGE_COLUMNS = (
    "id, conversation_id, user_id, owner, status, source_message_id, sent_message_ids, error, "
    "created_at, finished_at"
)
IMAGE_COLUMNS = "id, mime, width, height, size, caption"


def conversation_from(row: Any, d: Dialect) -> Conversation:
    """Decode a ``conversations`` row."""
    return Conversation(
        id=row["id"],
        key=row["key"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        thread_id=row["thread_id"],
        user_id=row["user_id"],
        private_user_id=row["private_user_id"],
        overrides=dict(d.from_json(row["overrides"])),
        created_at=d.from_time(row["created_at"]),
        updated_at=d.from_time(row["updated_at"]),
    )


def turn_from(row: Any, d: Dialect) -> Turn:
    """Decode a ``turns`` row selected with ``TURN_COLUMNS``."""
    deleted = row["deleted_at"]
    return Turn(
        id=row["id"],
        conversation_id=row["conversation_id"],
        exchange_id=row["exchange_id"],
        seq=row["seq"],
        role=row["role"],
        content=row["content"],
        parts=d.from_json(row["parts"]),
        author_id=row["author_id"],
        author_name=row["author_name"],
        name=row["name"],
        tool_calls=d.from_json(row["tool_calls"]),
        tool_call_id=row["tool_call_id"],
        status=row["status"],
        token_estimate=row["token_estimate"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        source_message_id=row["source_message_id"],
        sent_message_ids=d.from_json(row["sent_message_ids"]),
        created_at=d.from_time(row["created_at"]),
        deleted_at=None if deleted is None else d.from_time(deleted),
    )


def exchange_from(row: Any, d: Dialect) -> ExchangeRecord:
    """Decode an ``exchanges`` row selected with ``EXCHANGE_COLUMNS``."""
    finished = row["finished_at"]
    return ExchangeRecord(
        id=row["id"],
        conversation_id=row["conversation_id"],
        user_id=row["user_id"],
        owner=row["owner"],
        status=row["status"],
        source_message_id=row["source_message_id"],
        sent_message_ids=d.from_json(row["sent_message_ids"]),
        error=row["error"],
        created_at=d.from_time(row["created_at"]),
        finished_at=None if finished is None else d.from_time(finished),
    )


def ledger_from(row: Any, d: Dialect) -> LedgerRecord:
    """Decode a ``tool_ledger`` row."""
    completed = row["completed_at"]
    return LedgerRecord(
        key=row["key"],
        tool=row["tool"],
        arguments=row["arguments"],
        status=row["status"],
        result=row["result"],
        outcome=row["outcome"],
        created_at=d.from_time(row["created_at"]),
        completed_at=None if completed is None else d.from_time(completed),
    )


def interrupted_from(row: Any, d: Dialect) -> InterruptedExchange:
    """Decode a row of ``recover``'s query."""
    return InterruptedExchange(
        exchange_id=row["id"],
        conversation_id=row["conversation_id"],
        conversation_key=row["key"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        thread_id=row["thread_id"],
        user_id=row["user_id"],
        source_message_id=row["source_message_id"],
        sent_message_ids=list(d.from_json(row["sent_message_ids"])),
        created_at=d.from_time(row["created_at"]),
    )


def image_from(row: Any, data: bytes = b"") -> StoredImage:
    """Decode an ``images`` row selected with ``IMAGE_COLUMNS`` (``data``: its bytes)."""
    return StoredImage(
        row["id"], row["mime"], row["width"], row["height"], row["size"], data, row["caption"]
    )


def image_values(conversation_id: int, image: StoredImage, now: Any) -> tuple[Any, ...]:
    """The parameters of ``INSERT_IMAGE``/``SAVE_IMAGE`` for ``image``."""
    i = image
    values = (i.image_id, i.mime, i.width, i.height, i.size, i.data, i.caption, i.original)
    return (conversation_id, *values, now)
