"""The context window: stored turns -> OpenAI chat messages under a token budget.

Backends only fetch rows: the newest complete exchanges first, in batches, from an indexed
query. This module decides what fits, so both backends build the same window:

* the system messages (system prompt, persona) are always in, first;
* the current pending user turn is always in, last;
* older exchanges are added newest first while they fit; an exchange that does not fit whole
  keeps its user turn and final answer plus as many of its newest tool rounds as fit, and the
  window stops there;
* a tool round (an assistant message with ``tool_calls`` and the ``tool`` results answering
  it) is kept or dropped as one piece, so the window never starts with, or orphans, a ``tool``
  message;
* a user message right after a round's tool results (the images its tools returned, shown to
  the model) belongs to that round;
* tool results longer than ``max_tool_result_tokens`` are trimmed, with a marker saying so;
* stored image references (``image_ref`` parts) count at their real token cost; the backend
  turns them into data URLs after assembly, within the request's image byte budget (images.py).
"""

from __future__ import annotations

import contextlib
import math
import re
import unicodedata
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.store.models import NewTurn, Turn
from bot.store.tokens import REPLY_PRIMING, TokenCounter

DEFAULT_MAX_TOOL_RESULT_TOKENS = 2000
FIRST_BATCH = 8
MAX_BATCH = 512
TRIM_MARKER = "\n[tool result trimmed by toolcord: {kept} of {total} tokens kept]"
_NAME_FORBIDDEN = re.compile(r"[^A-Za-z0-9_-]+")
Message = dict[str, Any]
# The message key the engine attaches reasoning items under (bot/engine/responses.py), and the
# type of the ``parts`` entry that stores them on an assistant turn.
REASONING_KEY = "_reasoning"
REASONING_PART = "reasoning_items"


@dataclass(frozen=True, slots=True)
class ExchangeTurns:
    """The stored turns of one exchange, in ``seq`` order."""

    exchange_id: int
    turns: list[Turn]


@dataclass(frozen=True, slots=True)
class Window:
    """An assembled window: the messages and what they cost (raw, uncalibrated tokens)."""

    messages: list[Message]
    raw_tokens: int
    exchanges: int
    reached_start: bool


@dataclass(slots=True)
class _Unit:
    messages: list[Message] = field(default_factory=list)
    tokens: int = 0
    call_ids: set[str] = field(default_factory=set)
    answered: set[str] = field(default_factory=set)

    def add(self, message: Message, tokens: int) -> None:
        self.messages.append(message)
        self.tokens += tokens

    @property
    def is_round(self) -> bool:
        return bool(self.call_ids)


@dataclass(slots=True)
class _Shape:
    head: _Unit
    rounds: list[_Unit]
    final: _Unit | None

    @property
    def tokens(self) -> int:
        total = self.head.tokens + sum(unit.tokens for unit in self.rounds)
        return total + (self.final.tokens if self.final else 0)


def next_batch_size(room_tokens: int, seen_tokens: int, seen_exchanges: int, last: int) -> int:
    """How many exchanges a backend should fetch next, so it reads little past the budget.

    Sized from the stored token estimates of the exchanges read so far: enough to fill the
    remaining room at their average size (plus a quarter); doubling when nothing is known.
    """
    if seen_exchanges == 0 or seen_tokens <= 0:
        return min(last * 2, MAX_BATCH)
    average = seen_tokens / seen_exchanges
    wanted = math.ceil(max(room_tokens - seen_tokens, 0) / average * 1.25) + 2
    return max(FIRST_BATCH, min(MAX_BATCH, wanted))


def batch_tokens(batch: Sequence[ExchangeTurns]) -> int:
    """The stored token estimates of a batch, summed (turns without one count 0)."""
    return sum(turn.token_estimate or 0 for exchange in batch for turn in exchange.turns)


def group_by_exchange(turns: Iterable[Turn]) -> list[ExchangeTurns]:
    """Group turns by exchange, keeping the order in which exchanges first appear."""
    groups: dict[int, list[Turn]] = {}
    for turn in turns:
        groups.setdefault(turn.exchange_id, []).append(turn)
    return [
        ExchangeTurns(exchange_id, sorted(group, key=lambda turn: turn.seq))
        for exchange_id, group in groups.items()
    ]


def stored_parts(turn: NewTurn) -> list[Message]:
    """The ``parts`` column of a turn of an answer: its content parts (a user turn after tool
    results: the images the tools returned) and its reasoning items, if any."""
    parts: list[Message] = list(turn.parts)
    if turn.reasoning:
        parts.append({"type": REASONING_PART, **turn.reasoning})
    return parts


def reasoning_from_parts(parts: Sequence[Message]) -> Message | None:
    """The reasoning attachment stored by :func:`stored_parts`, or None."""
    for part in parts:
        if part.get("type") == REASONING_PART:
            return {key: value for key, value in part.items() if key != "type"}
    return None


def participant_name(author_name: str | None) -> str | None:
    """A ``name`` OpenAI accepts (``[A-Za-z0-9_-]{1,64}``) from a Discord display name."""
    if not author_name:
        return None
    decomposed = unicodedata.normalize("NFKD", author_name)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    cleaned = _NAME_FORBIDDEN.sub("_", plain).strip("_")[:64]
    return cleaned or None


def turn_message(
    turn: Turn,
    counter: TokenCounter,
    *,
    max_tool_result_tokens: int = DEFAULT_MAX_TOOL_RESULT_TOKENS,
    model: str | None = None,
) -> Message:
    """One stored turn as an OpenAI chat message dict."""
    if turn.role == "tool":
        content = _trim(turn.content or "", counter, max_tool_result_tokens, model)
        return {"role": "tool", "tool_call_id": turn.tool_call_id or "", "content": content}
    if turn.role == "assistant":
        message: Message = {"role": "assistant", "content": turn.content}
        if turn.tool_calls:
            message["tool_calls"] = turn.tool_calls
        elif turn.content is None:
            message["content"] = ""
        reasoning = reasoning_from_parts(turn.parts) if turn.parts else None
        if reasoning is not None:
            message[REASONING_KEY] = reasoning
        return message
    message = {"role": turn.role, "content": _user_content(turn)}
    name = participant_name(turn.author_name)
    if name and turn.role == "user":
        message["name"] = name
    return message


async def assemble_window(
    older: AsyncGenerator[Sequence[ExchangeTurns], None],
    current: Sequence[Turn],
    budget_tokens: int,
    counter: TokenCounter,
    system_messages: Sequence[Mapping[str, Any] | str] = (),
    *,
    model: str | None = None,
    max_tool_result_tokens: int = DEFAULT_MAX_TOOL_RESULT_TOKENS,
) -> Window:
    """Build the window from batches of complete exchanges, newest first.

    Args:
        older: Batches of complete exchanges older than the current one, newest first. It is
            only read as far as the budget reaches, then closed.
        current: The turns of the pending exchange being answered (its user turn), or empty.
        budget_tokens: Calibrated tokens the messages may cost (the model's context minus the
            room kept for the answer and the tool definitions).
        counter: Counts tokens; its calibration factor for ``model`` applies.
        system_messages: Always first: strings or ``{"role": "system", ...}`` dicts.
        model: The model the window is for (picks the encoding and the factor).
        max_tool_result_tokens: Longer tool results are trimmed to this.
    """
    system = [_system_message(item) for item in system_messages]
    tail = [_to_message(turn, counter, max_tool_result_tokens, model) for turn in current]
    fixed = REPLY_PRIMING + sum(counter.count_message(message, model) for message in system + tail)
    filler = _Filler(counter.raw_budget(budget_tokens, model) - fixed)
    async with contextlib.aclosing(older) as batches:
        async for batch in batches:
            if not all(
                filler.take(_shape(ex, counter, max_tool_result_tokens, model)) for ex in batch
            ):
                break
    body = [message for messages in reversed(filler.kept) for message in messages]
    return Window(system + body + tail, fixed + filler.used, len(filler.kept), filler.reached_start)


@dataclass(slots=True)
class _Filler:
    """Takes exchanges newest first while they fit in ``room`` raw tokens."""

    room: int
    used: int = 0
    kept: list[list[Message]] = field(default_factory=list)
    reached_start: bool = True

    def take(self, shape: _Shape) -> bool:
        """Keep what fits of ``shape``; ``False`` when the window is full (stop reading)."""
        messages, cost = _fit(shape, self.room - self.used)
        if messages:
            self.kept.append(messages)
            self.used += cost
        if messages and cost == shape.tokens:
            return True
        self.reached_start = False
        return False


def _fit(shape: _Shape, room: int) -> tuple[list[Message], int]:
    """The messages of ``shape`` that fit in ``room`` raw tokens, and their cost."""
    if shape.tokens <= room:
        return _flatten(shape.head, shape.rounds, shape.final), shape.tokens
    core = shape.head.tokens + (shape.final.tokens if shape.final else 0)
    if core > room or not shape.final:
        return [], 0
    chosen: list[_Unit] = []
    cost = core
    for unit in reversed(shape.rounds):
        if cost + unit.tokens > room:
            break
        chosen.insert(0, unit)
        cost += unit.tokens
    return _flatten(shape.head, chosen, shape.final), cost


def _flatten(head: _Unit, rounds: Iterable[_Unit], final: _Unit | None) -> list[Message]:
    messages = list(head.messages)
    for unit in rounds:
        messages.extend(unit.messages)
    if final:
        messages.extend(final.messages)
    return messages


def _shape(
    exchange: ExchangeTurns, counter: TokenCounter, max_tool_tokens: int, model: str | None
) -> _Shape:
    head = _Unit()
    units: list[_Unit] = []
    for turn in exchange.turns:
        message = _to_message(turn, counter, max_tool_tokens, model)
        tokens = counter.count_message(message, model)
        if turn.role == "assistant":
            unit = _Unit()
            unit.call_ids = {str(call.get("id")) for call in turn.tool_calls}
            unit.add(message, tokens)
            units.append(unit)
        elif turn.role == "tool":
            if units and turn.tool_call_id in units[-1].call_ids:
                units[-1].answered.add(turn.tool_call_id or "")
                units[-1].add(message, tokens)
        elif units and units[-1].is_round:
            units[-1].add(message, tokens)  # the images its tools returned: kept with the round
        elif not units:
            head.add(message, tokens)
    whole = [unit for unit in units if unit.answered == unit.call_ids]
    final = whole[-1] if whole and not whole[-1].is_round else None
    rounds = whole[:-1] if final else whole
    return _Shape(head, rounds, final)


def _to_message(
    turn: Turn, counter: TokenCounter, max_tool_tokens: int, model: str | None
) -> Message:
    return turn_message(turn, counter, max_tool_result_tokens=max_tool_tokens, model=model)


def _user_content(turn: Turn) -> str | list[dict[str, Any]]:
    if not turn.parts:
        return turn.content or ""
    text = [{"type": "text", "text": turn.content}] if turn.content else []
    return text + list(turn.parts)


def _system_message(item: Mapping[str, Any] | str) -> Message:
    if isinstance(item, str):
        return {"role": "system", "content": item}
    return dict(item)


def _trim(text: str, counter: TokenCounter, max_tokens: int, model: str | None) -> str:
    total = counter.count_text(text, model)
    if total <= max_tokens:
        return text
    room = max(
        0, max_tokens - counter.count_text(TRIM_MARKER.format(kept=total, total=total), model)
    )
    return counter.truncate(text, room, model) + TRIM_MARKER.format(kept=room, total=total)
