"""SQL-free rules both backends share: what may be written, estimates, exports."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any

from bot.store.errors import ExchangeStateError
from bot.store.images import split_images
from bot.store.models import (
    Conversation,
    ExchangeRecord,
    JsonDict,
    NewTurn,
    StoredImage,
    Turn,
    UserTurn,
)
from bot.store.tokens import TokenCounter
from bot.store.window import REASONING_KEY, participant_name

EXPORT_FORMAT = "toolcord.conversation.v1"
DELETED_TEXT = "[message deleted]"
FORGOTTEN_MODEL = "forgotten"
INTERRUPTED_BY_RESTART = "interrupted: the bot stopped before the answer was complete"


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (the stores' default clock)."""
    return datetime.now(UTC)


def to_json(value: Any) -> str:
    """Compact JSON text for a JSON column."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def unique_ids(*groups: Iterable[int]) -> list[int]:
    """Message ids of all groups, first occurrence order, without repeats."""
    return list(dict.fromkeys(int(item) for group in groups for item in group))


def merge_overrides(current: Mapping[str, Any], changes: Mapping[str, Any]) -> JsonDict:
    """``current`` updated with ``changes``; a ``None`` value removes that key."""
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def ledger_conversation(key: str) -> int | None:
    """The conversation id a ledger key starts with (``"{conversation}/{turn}/..."``), if any.

    Links a ledger row to its conversation, so clearing or forgetting it removes the row too.
    """
    head = key.split("/", 1)[0]
    return int(head) if head.isdigit() and len(head) < 19 else None


def require_pending(exchange_id: int, status: str | None, action: str) -> None:
    """Raise ``ExchangeStateError`` unless the exchange exists and is pending."""
    if status is None:
        raise ExchangeStateError(exchange_id, "missing (never created, or deleted)", action)
    if status != "pending":
        raise ExchangeStateError(exchange_id, status, action)


def check_new_turns(turns: Sequence[NewTurn]) -> None:
    """Refuse turns the window could not send back: every tool call answered, in order.

    Raises:
        ValueError: A turn has a role other than assistant/tool, a tool result answers no call
            of the assistant message before it, or a call is left without a result.
    """
    open_calls: set[str] = set()
    for index, turn in enumerate(turns):
        if turn.role == "assistant":
            _require_answered(open_calls, index)
            ids = [call.get("id") for call in turn.tool_calls]
            if not all(isinstance(id_, str) and id_ for id_ in ids) or len(set(ids)) != len(ids):
                raise ValueError(f"turn {index}: every tool call needs a distinct string 'id'")
            open_calls = {str(id_) for id_ in ids}
        elif turn.role == "tool":
            if turn.tool_call_id not in open_calls:
                raise ValueError(
                    f"turn {index}: tool result for {turn.tool_call_id!r} answers no call of "
                    "the assistant message before it"
                )
            open_calls.discard(turn.tool_call_id)
        elif turn.role == "user" and index > 0 and turns[index - 1].role == "tool":
            continue  # images the tools of the round returned, shown to the model after them
        else:
            raise ValueError(
                f"turn {index}: role must be 'assistant' or 'tool' (or 'user' right after tool "
                f"results), not {turn.role!r}"
            )
    _require_answered(open_calls, len(turns))


def _require_answered(open_calls: set[str], index: int) -> None:
    if open_calls:
        raise ValueError(f"before turn {index}: tool calls {sorted(open_calls)} have no result")


def with_image_refs(turn: UserTurn) -> tuple[UserTurn, list[StoredImage]]:
    """The turn with its data-URL images replaced by references, and those images (once each)."""
    if not turn.parts:
        return turn, []
    parts, images = split_images(turn.parts, caption=f"posted by {turn.author_name}")
    return (replace(turn, parts=parts), images) if images else (turn, [])


def new_turns_with_image_refs(turns: Sequence[NewTurn]) -> tuple[list[NewTurn], list[StoredImage]]:
    """New turns with their data-URL images replaced by references, and those images."""
    kept: list[NewTurn] = []
    images: list[StoredImage] = []
    for turn in turns:
        if not turn.parts:
            kept.append(turn)
            continue
        parts, found = split_images(turn.parts)
        kept.append(replace(turn, parts=parts))
        images.extend(found)
    return kept, images


def user_turn_estimate(counter: TokenCounter, turn: UserTurn) -> int:
    """Tokens the user turn costs as a chat message (unless the caller counted it)."""
    if turn.token_estimate is not None:
        return turn.token_estimate
    content: Any = turn.content
    if turn.parts:
        content = [{"type": "text", "text": turn.content}, *turn.parts]
    message = {"role": "user", "content": content, "name": participant_name(turn.author_name)}
    return counter.count_message(message)


def new_turn_estimate(counter: TokenCounter, turn: NewTurn) -> int:
    """Tokens an assistant or tool turn costs as a chat message (unless already counted)."""
    if turn.token_estimate is not None:
        return turn.token_estimate
    message: JsonDict = {"role": turn.role, "content": turn.content}
    if turn.parts:
        text = [{"type": "text", "text": turn.content}] if turn.content else []
        message["content"] = [*text, *turn.parts]
    if turn.tool_calls:
        message["tool_calls"] = turn.tool_calls
    if turn.tool_call_id:
        message["tool_call_id"] = turn.tool_call_id
    if turn.reasoning:
        message[REASONING_KEY] = turn.reasoning
    return counter.count_message(message)


def export_document(
    conversation: Conversation,
    exchanges: Sequence[ExchangeRecord],
    turns: Sequence[Turn],
    *,
    only_user_id: int | None = None,
) -> JsonDict:
    """A JSON-serialisable document of one conversation, its exchanges and their turns.

    With ``only_user_id``, only that user's exchanges (their turns and the answers to them).
    """
    if only_user_id is not None:
        exchanges = [exchange for exchange in exchanges if exchange.user_id == only_user_id]
        kept = {exchange.id for exchange in exchanges}
        turns = [turn for turn in turns if turn.exchange_id in kept]
    by_exchange: dict[int, list[JsonDict]] = {}
    for turn in turns:
        by_exchange.setdefault(turn.exchange_id, []).append(_plain(asdict(turn)))
    return {
        "format": EXPORT_FORMAT,
        "conversation": _plain(asdict(conversation)),
        "exchanges": [
            {**_plain(asdict(exchange)), "turns": by_exchange.get(exchange.id, [])}
            for exchange in exchanges
        ],
    }


def _plain(record: JsonDict) -> JsonDict:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in record.items()
    }
