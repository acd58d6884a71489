"""The contract every conversation store backend keeps (SQLite and PostgreSQL), by concern.

Code that needs one concern takes the narrow Protocol (``SettingsStore``, ``UsageStore``, ...);
``Store`` is all of them, what ``open_store`` returns.

The same contract test suite (tests/bot/store) runs against both backends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

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
from bot.store.tokens import TokenCounter


class ConversationStore(Protocol):
    """Conversations, their exchanges and turns, and the context window built from them."""

    async def get_conversation(self, key: str) -> Conversation | None:
        """The conversation with ``key``, or ``None``."""

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

    async def set_overrides(self, conversation_id: int, changes: Mapping[str, Any]) -> JsonDict:
        """Merge ``changes`` into the conversation's overrides; ``None`` removes a key."""

    async def conversation_for_message(self, discord_message_id: int) -> Conversation | None:
        """The conversation a Discord message (the user's or one the bot sent) belongs to."""

    async def begin_exchange(self, conversation_id: int, turn: UserTurn) -> Exchange | None:
        """Store the user turn as a pending exchange; ``None`` if its message id was seen."""

    async def complete_exchange(
        self,
        exchange_id: int,
        turns: Sequence[NewTurn],
        sent_message_ids: Sequence[int] = (),
        usage: Usage | None = None,
    ) -> None:
        """Append assistant/tool turns, mark complete, record sent ids and usage: one commit."""

    async def fail_exchange(
        self,
        exchange_id: int,
        status: EndStatus,
        error: str,
        sent_message_ids: Sequence[int] = (),
    ) -> None:
        """Mark a pending exchange failed or interrupted."""

    async def recover(self) -> list[InterruptedExchange]:
        """At start: mark this owner's pending exchanges interrupted and return them, once."""

    async def get_exchange(self, exchange_id: int) -> ExchangeRecord | None:
        """The stored state of an exchange."""

    async def exchange_turns(self, exchange_id: int) -> list[Turn]:
        """The turns of an exchange in order."""

    async def build_window(
        self,
        conversation_id: int,
        budget_tokens: int,
        counter: TokenCounter,
        system_messages: Sequence[Mapping[str, Any] | str] = (),
        *,
        current_exchange_id: int | None = None,
        model: str | None = None,
        max_tool_result_tokens: int = ...,
        max_image_bytes: int = ...,
    ) -> list[dict[str, Any]]:
        """OpenAI chat messages under a token budget, newest exchanges first (window.py).

        Stored image references become data URLs, newest first within ``max_image_bytes``;
        older images become a short text note (images.py). No ``image_ref`` part is returned.
        """


class ImageStore(Protocol):
    """The images a conversation's turns refer to."""

    async def list_images(self, conversation_id: int) -> list[StoredImage]:
        """The images stored for a conversation (each once), oldest first, without bytes."""

    async def get_image(self, conversation_id: int, image_id: str) -> StoredImage | None:
        """One stored image of a conversation with its bytes (and a tool's original) or None."""

    async def save_image(self, conversation_id: int, image: StoredImage) -> None:
        """Store an image before a turn refers to it (a tool's result, with its original).

        Stored again, it keeps the first caption and original it was given.
        """


class UsageStore(Protocol):
    """The usage ledger: tokens and images spent, by user, guild and model."""

    async def record_usage(
        self,
        usage: Usage,
        *,
        user_id: int | None,
        guild_id: int | None,
        conversation_id: int | None = None,
        exchange_id: int | None = None,
    ) -> None:
        """Add a usage ledger row outside an exchange."""

    async def usage_totals(
        self,
        *,
        user_id: int | None = None,
        guild_id: int | None = None,
        since: datetime | None = None,
        model: str | None = None,
    ) -> UsageTotals:
        """Sums of the usage ledger, filtered."""


class SettingsStore(Protocol):
    """Settings per scope (guild, channel, user) and Discord id."""

    async def get_settings(self, scope: str, scope_id: int) -> JsonDict:
        """Settings of a scope (``"guild"``, ``"channel"``, ``"user"``) and Discord id."""

    async def set_settings(self, scope: str, scope_id: int, data: Mapping[str, Any]) -> None:
        """Replace the settings of a scope and id."""


class UserDataStore(Protocol):
    """A user's data: deletion, export and redaction of deleted Discord messages."""

    async def clear_conversation(self, key: str) -> bool:
        """Delete a conversation and everything in it."""

    async def forget_user(
        self, user_id: int, *, keep_usage_since: datetime | None = None
    ) -> ForgetReport:
        """Delete every row authored by or keyed to a user.

        Usage rows stay: from ``keep_usage_since`` on under the user's id (stripped of their
        conversation and model, so the budgets still count them), before it anonymised.
        """

    async def export_conversation(
        self, key: str, *, only_user_id: int | None = None
    ) -> JsonDict | None:
        """A JSON-serialisable document of a conversation (only one user's exchanges)."""

    async def mark_messages_deleted(self, message_ids: Sequence[int]) -> int:
        """Discord messages were deleted: redact the turns they carried; returns turns redacted.

        A deleted user message redacts its user turn; a deleted bot message redacts the
        assistant text of its exchange. Redacted turns keep their place (the window stays
        well-formed) with ``records.DELETED_TEXT`` as content, no parts, and ``deleted_at`` set.
        """


class ToolLedgerStore(Protocol):
    """The tool-call ledger (``tools.ledger`` protocol): each side effect runs once."""

    async def claim(self, key: str, tool: str, arguments: str) -> LedgerRecord | None:
        """``None`` if newly claimed (run the tool), else the earlier record (do not)."""

    async def complete(self, key: str, result: str, status: str = "ok") -> None:
        """Mark a claimed side effect completed, with its result and outcome ``status``."""

    async def prune_ledger(self, before: datetime) -> int:
        """Delete ledger rows created before ``before``."""


@runtime_checkable
class Store(
    ConversationStore,
    ImageStore,
    UsageStore,
    SettingsStore,
    UserDataStore,
    ToolLedgerStore,
    Protocol,
):
    """Durable conversations: exchanges, turns, usage, settings and the tool-call ledger.

    Every method that writes runs in one transaction: it happens whole or not at all. Methods
    raise ``bot.errors.StoreError`` when the database itself fails (the owner must act).
    """

    backend: str
    owner: str

    async def close(self) -> None:
        """Release connections; the store cannot be used afterwards."""

    async def schema_version(self) -> int:
        """The schema version of the database."""
