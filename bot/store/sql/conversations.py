"""Conversations, their exchanges and turns, and the context window built from them."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from bot.store import records
from bot.store.images import DEFAULT_MAX_IMAGE_BYTES, resolve_images
from bot.store.keys import private_user_id
from bot.store.models import (
    Conversation,
    EndStatus,
    Exchange,
    ExchangeRecord,
    InterruptedExchange,
    JsonDict,
    NewTurn,
    Turn,
    Usage,
    UserTurn,
)
from bot.store.sql import exchanges
from bot.store.sql.base import SqlConcern
from bot.store.sql.exchanges import OLDER_TURNS, Beginning, Finished
from bot.store.sql.images import images_by_id
from bot.store.sql.program import one, rows, single
from bot.store.sql.rows import (
    EXCHANGE_COLUMNS,
    TURN_COLUMNS,
    conversation_from,
    exchange_from,
    interrupted_from,
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
)
from bot.store.window import group_by_exchange as group_turns


class ConversationsSql(SqlConcern):
    """``ConversationStore`` in SQL."""

    # -- conversations ----------------------------------------------------------------------

    async def get_conversation(self, key: str) -> Conversation | None:
        """The conversation with ``key``, or ``None``."""
        statement = one("SELECT * FROM conversations WHERE key = ?", key)
        row = await self._sql.read(lambda: single(statement))
        return conversation_from(row, self._dialect) if row else None

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
        now = self._now()
        values = (key, guild_id, channel_id, thread_id, user_id, private_user_id(key), now, now)
        row = await self._sql.write(lambda: exchanges.create_conversation(values))
        return conversation_from(row, self._dialect)

    async def set_overrides(self, conversation_id: int, changes: Mapping[str, Any]) -> JsonDict:
        """Merge ``changes`` into the conversation's overrides (``None`` removes a key)."""
        now, d = self._now(), self._dialect
        return await self._sql.write(
            lambda: exchanges.set_overrides(d, conversation_id, changes, now)
        )

    async def conversation_for_message(self, discord_message_id: int) -> Conversation | None:
        """The conversation a Discord message (the user's or the bot's) belongs to."""
        statement = one(
            "SELECT c.* FROM message_links l JOIN conversations c ON c.id = l.conversation_id "
            "WHERE l.message_id = ?",
            discord_message_id,
        )
        row = await self._sql.read(lambda: single(statement))
        return conversation_from(row, self._dialect) if row else None

    # -- exchanges --------------------------------------------------------------------------

    async def begin_exchange(self, conversation_id: int, turn: UserTurn) -> Exchange | None:
        """Store a user turn as a pending exchange; ``None`` if its message was seen before."""
        now = self._now()
        turn, images = records.with_image_refs(turn)
        estimate = records.user_turn_estimate(self.counter, turn)
        new = Beginning(conversation_id, turn, self.owner, estimate, now, images)
        d = self._dialect
        return await self._sql.write(lambda: exchanges.begin_exchange(d, new))

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
        now, d = self._now(), self._dialect
        turns, images = records.new_turns_with_image_refs(turns)
        estimates = [records.new_turn_estimate(self.counter, turn) for turn in turns]
        finished = Finished(exchange_id, "complete", None, sent_message_ids, now)
        await self._sql.write(
            lambda: exchanges.complete_exchange(d, finished, turns, estimates, usage, images)
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
        finished = Finished(exchange_id, status, error, sent_message_ids, self._now())
        d = self._dialect
        await self._sql.write(lambda: exchanges.fail_exchange(d, finished))

    async def recover(self) -> list[InterruptedExchange]:
        """Mark this owner's pending exchanges interrupted and return them (once)."""
        now, d = self._now(), self._dialect
        found = await self._sql.write(lambda: exchanges.recover(d, self.owner, now))
        return [interrupted_from(row, d) for row in found]

    async def get_exchange(self, exchange_id: int) -> ExchangeRecord | None:
        """The stored state of an exchange, or ``None``."""
        statement = one(f"SELECT {EXCHANGE_COLUMNS} FROM exchanges WHERE id = ?", exchange_id)
        row = await self._sql.read(lambda: single(statement))
        return exchange_from(row, self._dialect) if row else None

    async def exchange_turns(self, exchange_id: int) -> list[Turn]:
        """The turns of one exchange in order."""
        statement = rows(
            f"SELECT {TURN_COLUMNS} FROM turns WHERE exchange_id = ? ORDER BY seq", exchange_id
        )
        found = await self._sql.read(lambda: single(statement))
        return [turn_from(row, self._dialect) for row in found]

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
        current, first = await self._sql.read(
            lambda: exchanges.window_rows(conversation_id, current_exchange_id)
        )
        window = await assemble_window(
            self._older(conversation_id, first, counter.raw_budget(budget_tokens, model)),
            [turn_from(row, self._dialect) for row in current],
            budget_tokens,
            counter,
            system_messages,
            model=model,
            max_tool_result_tokens=max_tool_result_tokens,
        )
        return await resolve_images(
            window.messages,
            max_image_bytes,
            lambda ids: images_by_id(self._sql, conversation_id, ids),
        )

    async def _older(
        self, conversation_id: int, first: list[Any], room_tokens: int
    ) -> AsyncGenerator[list[ExchangeTurns], None]:
        """Complete exchanges older than the current one, newest first, in budget-sized batches.

        ``first`` is the first batch's rows (read with the current exchange, in one trip).
        """
        limit = FIRST_BATCH
        seen_tokens = seen_exchanges = 0
        found = first
        while True:
            batch = group_turns(turn_from(row, self._dialect) for row in found)
            if batch:
                yield batch
            if len(batch) < limit:
                return
            seen_tokens += batch_tokens(batch)
            seen_exchanges += len(batch)
            limit = next_batch_size(room_tokens, seen_tokens, seen_exchanges, limit)
            statement = rows(OLDER_TURNS, conversation_id, batch[-1].exchange_id, limit)
            found = await self._sql.read(lambda: single(statement))  # noqa: B023
