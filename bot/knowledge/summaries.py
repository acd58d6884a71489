"""Rolling summaries: what a long conversation's window no longer shows, summarized.

Before each turn, when the conversation's text since the last summary exceeds
``TRIGGER_SHARE`` of the context budget (so the window is about to drop turns), the oldest part
beyond ``KEEP_SHARE`` of the budget is summarized by the cheap ``knowledge.summary_model``,
together with the previous summary, into a new rolling summary stored with the conversation.
The summary goes into every later request as a system message (counted in the window's budget),
and the user is told once, under the answer, that older messages were summarized. Summary calls
go through the quota gate and the usage ledger, charged to the user whose turn caused them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import openai

from bot.knowledge.models import PastTurn, Summary
from bot.knowledge.service import CallGate
from bot.settings import KnowledgeSettings
from bot.store.knowledge import KnowledgeStore
from bot.store.models import Usage
from bot.store.tokens import TokenCounter

log = logging.getLogger("toolcord.knowledge")
TRIGGER_SHARE = 0.75
KEEP_SHARE = 0.5
INPUT_SHARE = 2.0
SUMMARY_HEADER = (
    "Summary of the earlier part of this conversation (those messages are no longer shown):"
)
NOTICE = "Older messages of this conversation were summarized to fit; /export shows the summary."
INSTRUCTIONS = (
    "You keep the running summary of a chat. Merge the previous summary and the messages below "
    "into one concise summary. Keep every fact, name, number, code, decision and open question; "
    "attribute statements to their speakers; drop small talk. Answer with the summary only."
)
MAX_TURN_CHARS = 2000


class RollingSummaries:
    """Makes and provides the rolling summary of each conversation."""

    def __init__(
        self,
        store: KnowledgeStore,
        client: openai.AsyncOpenAI,
        settings: KnowledgeSettings,
        context_tokens: int,
        gate: CallGate | None,
        counter: TokenCounter,
    ) -> None:
        self._store = store
        self._client = client
        self._settings = settings
        self._budget = context_tokens
        self._gate = gate
        self._counter = counter

    async def system_messages(
        self,
        user_id: int,
        user_name: str,
        guild_id: int | None,
        conversation_id: int,
        text: str = "",
    ) -> list[dict[str, Any]]:
        """The conversation's summary (refreshed first if the window is about to drop turns)."""
        summary = await self.refresh(conversation_id, user_id, guild_id)
        if summary is None:
            return []
        return [{"role": "system", "content": f"{SUMMARY_HEADER}\n{summary.text}"}]

    async def notice(self, conversation_id: int) -> str:
        """The line to show under the answer the first time a summary exists, else ``""``."""
        if await self._store.summary(conversation_id) is None:
            return ""
        return NOTICE if await self._store.mark_told(conversation_id) else ""

    async def refresh(
        self, conversation_id: int, user_id: int, guild_id: int | None
    ) -> Summary | None:
        """Summarize what the window would drop; the (new or unchanged) summary."""
        current = await self._store.summary(conversation_id)
        after = current.through_turn_id if current else 0
        turns = await self._store.turns_since(conversation_id, after)
        dropped = due(turns, self._budget)
        if not dropped:
            return current
        previous = current.text if current else ""
        try:
            text = await self._summarize(previous, dropped, user_id, guild_id)
        except (openai.OpenAIError, LimitReached) as error:
            log.warning("conversation %s not summarized: %s", conversation_id, error)
            return current
        tokens = self._counter.count_text(text, self._settings.summary_model)
        await self._store.save_summary(conversation_id, text, dropped[-1].id, tokens)
        return await self._store.summary(conversation_id)

    async def _summarize(
        self, previous: str, turns: Sequence[PastTurn], user_id: int, guild_id: int | None
    ) -> str:
        model = self._settings.summary_model
        if self._gate is not None:
            refusal = await self._gate.admit_call(user_id, guild_id)
            if refusal is not None:
                raise LimitReached(refusal.message)
        answer = await self._client.chat.completions.create(
            model=model,
            messages=[
                {"role": "system", "content": INSTRUCTIONS},
                {"role": "user", "content": transcript(previous, turns)},
            ],
            max_completion_tokens=self._settings.summary_tokens,
        )
        if self._gate is not None and answer.usage is not None:
            usage = Usage(model, answer.usage.prompt_tokens, answer.usage.completion_tokens)
            await self._gate.charge_call(user_id, guild_id, usage)
        text = (answer.choices[0].message.content or "").strip() if answer.choices else ""
        if not text:
            raise LimitReached("the summary model answered with no text")
        return text


class LimitReached(Exception):
    """The summary was not made (budget spent, or an empty answer); the turn goes on."""


def due(turns: Sequence[PastTurn], budget: int) -> list[PastTurn]:
    """The oldest turns to summarize now, or ``[]`` while the window still holds them all."""
    total = sum(turn.token_estimate for turn in turns)
    if total <= budget * TRIGGER_SHARE:
        return []
    kept = 0
    for index in range(len(turns) - 1, -1, -1):
        kept += turns[index].token_estimate
        if kept > budget * KEEP_SHARE:
            return _newest_within(turns[: index + 1], budget * INPUT_SHARE)
    return []


def _newest_within(turns: Sequence[PastTurn], tokens: float) -> list[PastTurn]:
    """The newest of ``turns`` that fit ``tokens`` (older ones, dropped long ago, are skipped:
    the summarizer's input stays bounded even for a conversation older than summaries)."""
    total = 0
    for index in range(len(turns) - 1, -1, -1):
        total += turns[index].token_estimate
        if total > tokens:
            return list(turns[index + 1 :]) or [turns[-1]]
    return list(turns)


def transcript(previous: str, turns: Sequence[PastTurn]) -> str:
    """The summarizer's input: the previous summary, then the messages as ``name: text``."""
    lines = [f"Previous summary:\n{previous or '(none)'}", "", "Messages:"]
    for turn in turns:
        speaker = (turn.author_name or "user") if turn.role == "user" else "assistant"
        lines.append(f"{speaker}: {turn.content[:MAX_TURN_CHARS]}")
    return "\n".join(lines)
