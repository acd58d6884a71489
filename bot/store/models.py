"""Plain records the conversation store takes and returns.

Discord ids are ``int`` snowflakes. Times are timezone-aware UTC ``datetime`` objects. JSON
columns come back as plain ``dict``/``list`` values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]
Status = Literal["pending", "complete", "interrupted", "failed"]
EndStatus = Literal["failed", "interrupted"]

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Conversation:
    """One conversation, found by its key (see ``bot.store.keys``).

    ``user_id`` is who started it; ``private_user_id`` is set when the key belongs to one user
    (a DM or a private conversation in a channel) and only that user may continue it.
    """

    id: int
    key: str
    guild_id: int | None
    channel_id: int | None
    thread_id: int | None
    user_id: int | None
    private_user_id: int | None
    overrides: JsonDict
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class UserTurn:
    """What a user said: text, content parts (e.g. ``image_url``) and the Discord message id."""

    author_id: int
    author_name: str
    content: str
    parts: list[JsonDict] = field(default_factory=list)
    source_message_id: int | None = None
    token_estimate: int | None = None


@dataclass(frozen=True, slots=True)
class NewTurn:
    """An assistant, tool (or tool-images user) turn to append when an exchange completes.

    Args:
        role: ``"assistant"`` or ``"tool"``.
        content: The text (``None`` for an assistant message that only calls tools).
        tool_calls: OpenAI tool call dicts (``{"id", "type": "function", "function": {...}}``).
        tool_call_id: For a ``tool`` turn: the call it answers.
        name: For a ``tool`` turn the tool's name (kept for the record, not sent to the model).
        parts: For a ``user`` turn after tool results (images the tools returned, shown to the
            model): its non-text content parts; data-URL images are stored by reference.
        token_estimate: Tokens this message costs, if the caller already counted them.
        reasoning: For an ``assistant`` turn, the reasoning items that came with it, tagged with
            the model family that made them (``{"family": ..., "items": [...]}``); stored in the
            turn's ``parts`` and given back on the message under ``REASONING_KEY``.
    """

    role: Role
    content: str | None = None
    tool_calls: list[JsonDict] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    token_estimate: int | None = None
    parts: list[JsonDict] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning: JsonDict | None = None


@dataclass(frozen=True, slots=True)
class Turn:
    """A stored turn (one message of a conversation)."""

    id: int
    conversation_id: int
    exchange_id: int
    seq: int
    role: Role
    content: str | None
    parts: list[JsonDict]
    author_id: int | None
    author_name: str | None
    name: str | None
    tool_calls: list[JsonDict]
    tool_call_id: str | None
    status: Status
    token_estimate: int | None
    prompt_tokens: int | None
    completion_tokens: int | None
    source_message_id: int | None
    sent_message_ids: list[int]
    created_at: datetime
    deleted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Exchange:
    """A user turn accepted for answering: handle for ``complete_exchange``/``fail_exchange``."""

    id: int
    conversation_id: int
    user_turn_id: int
    source_message_id: int | None


@dataclass(frozen=True, slots=True)
class ExchangeRecord:
    """The stored state of an exchange (one user turn and the reply to it)."""

    id: int
    conversation_id: int
    user_id: int | None
    owner: str
    status: Status
    source_message_id: int | None
    sent_message_ids: list[int]
    error: str | None
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class InterruptedExchange:
    """An exchange found pending at start and marked interrupted by ``recover()``.

    The bot tells the user once: reply to ``source_message_id`` in ``channel_id`` (or
    ``thread_id``), or edit the last of ``sent_message_ids`` if part of an answer was sent.
    """

    exchange_id: int
    conversation_id: int
    conversation_key: str
    guild_id: int | None
    channel_id: int | None
    thread_id: int | None
    user_id: int | None
    source_message_id: int | None
    sent_message_ids: list[int]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Usage:
    """What one model request (or a tool like image generation) cost, as the server reported.

    ``reasoning_tokens`` are part of ``completion_tokens`` and ``tool_schema_tokens`` (what the
    tool definitions added, over every request of the turn) part of ``prompt_tokens``: details,
    never counted again.
    """

    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    images: int = 0
    reasoning_tokens: int = 0
    tool_schema_tokens: int = 0


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Sums over usage ledger rows."""

    requests: int
    prompt_tokens: int
    completion_tokens: int
    images: int
    reasoning_tokens: int = 0  # part of completion_tokens
    tool_schema_tokens: int = 0  # part of prompt_tokens

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    """A tool-call ledger row (the fields of ``tools.ledger.SideEffectRecord``, plus times).

    ``status`` is ``"attempted"`` (claimed, outcome unknown) or ``"completed"``; ``outcome``
    is the status the dispatcher passed to ``complete`` (e.g. ``"ok"``, ``"error"``).
    """

    key: str
    tool: str
    arguments: str
    status: str
    result: str | None
    outcome: str | None
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """What ``forget_user`` removed (rows per table), anonymised or kept (usage rows).

    ``usage_kept``: usage rows of the budget windows still running, kept under the user's id
    (counts and times only, no conversation and no model) so forgetting spends no budget.
    """

    conversations: int
    exchanges: int
    turns: int
    settings: int
    usage_anonymised: int
    usage_kept: int = 0


@dataclass(frozen=True, slots=True)
class StoredImage:
    """An image of a conversation, stored once (keyed by the SHA-256 of its bytes).

    Turns refer to it with an ``image_ref`` part (``bot.store.images``); ``data`` is empty when
    only the description was read (``list_images``). ``caption`` says who posted it or which tool
    made it; ``original`` holds the bytes a tool returned when ``data`` is a downscaled copy
    (read by ``get_image`` only).
    """

    image_id: str
    mime: str
    width: int
    height: int
    size: int
    data: bytes = b""
    caption: str = ""
    original: bytes | None = None
