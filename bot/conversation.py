"""The conversation service: one user turn in, one answer out, durably.

It stores the user's turn (once per Discord message id), builds the window under the token budget,
runs the completion loop, hands the loop's events to a sink (Discord delivery, or any other front
end) and stores the outcome with the ids of the messages the sink sent. It knows no Discord.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import openai

from bot.engine import EngineEvent, Failed, Final, LoopLimits, TurnRequest, run_turn
from bot.keyed_locks import KeyedLocks
from bot.settings import Settings
from bot.store import NewTurn, Store, TokenCounter, UserTurn, Usage
from tools import Dispatcher, ToolContext, ToolRegistry

log = logging.getLogger("toolcord.conversation")


@dataclass
class IncomingTurn:
    """A user's turn as any front end hands it over."""

    key: str
    user_id: int
    user_name: str
    channel_id: int
    text: str
    source_message_id: int
    guild_id: int | None = None
    thread_id: int | None = None
    parts: list[dict[str, Any]] = field(default_factory=list)
    is_owner: bool = False
    member_permissions: int | None = None
    member_top_role: int = 0
    locale: str | None = None


class ReplySink(Protocol):
    """Where an answer goes. Delivery implements it for Discord."""

    async def on_event(self, event: EngineEvent) -> None:
        """See a streaming event (cheap: must not wait on the network)."""

    async def finish(self, final: Final) -> list[int]:
        """Deliver the complete answer; return the ids of every message sent for it."""

    async def fail(self, failed: Failed) -> list[int]:
        """Tell the user the answer failed; return the ids of every message sent for it."""


@dataclass
class Services:
    """What the service needs, injected by the composition root."""

    settings: Settings
    store: Store
    client: openai.AsyncOpenAI
    registry: ToolRegistry
    counter: TokenCounter
    http: Any = None
    tool_services: dict[str, Any] = field(default_factory=dict)


class ConversationService:
    """Takes user turns and answers them; one conversation at a time, many in parallel."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._locks = KeyedLocks()

    async def handle(self, turn: IncomingTurn, make_sink: Callable[[], Awaitable[ReplySink]]) -> bool:
        """Answer ``turn``; returns False if it was a duplicate (already accepted before).

        ``make_sink`` is called only once the turn is accepted, so a duplicate sends nothing.
        """
        async with self._locks.hold(turn.key):
            return await self._handle_in_order(turn, make_sink)

    async def _handle_in_order(
        self, turn: IncomingTurn, make_sink: Callable[[], Awaitable[ReplySink]]
    ) -> bool:
        store = self._services.store
        conversation = await store.get_or_create_conversation(
            turn.key,
            guild_id=turn.guild_id,
            channel_id=turn.channel_id,
            thread_id=turn.thread_id,
            user_id=turn.user_id,
        )
        exchange = await store.begin_exchange(conversation.id, _user_turn(turn, self._counter()))
        if exchange is None:
            log.info("message %s was already accepted; not answering twice", turn.source_message_id)
            return False
        sink = await make_sink()
        try:
            await self._answer(turn, conversation, exchange, sink)
        except asyncio.CancelledError:
            await asyncio.shield(store.fail_exchange(exchange.id, "interrupted", "cancelled"))
            raise
        return True

    def _counter(self) -> TokenCounter:
        return self._services.counter

    async def _answer(self, turn: IncomingTurn, conversation: Any, exchange: Any, sink: ReplySink) -> None:
        settings = self._services.settings
        budget = settings.openai.context_tokens
        outcome = await self._run_once(turn, conversation, exchange.id, sink, budget)
        if isinstance(outcome, Failed) and outcome.kind == "context_too_long":
            log.info("context too long for conversation %s; trimming and retrying", conversation.id)
            outcome = await self._run_once(turn, conversation, exchange.id, sink, budget // 2)
        await self._conclude(exchange, outcome, sink, conversation)

    async def _run_once(
        self, turn: IncomingTurn, conversation: Any, exchange_id: int, sink: ReplySink, budget: int
    ) -> Final | Failed:
        request = await self._request(turn, conversation, exchange_id, budget)
        async for event in run_turn(self._services.client, request):
            if isinstance(event, Final | Failed):
                return event
            await sink.on_event(event)
        raise AssertionError("the loop ended without an outcome")

    async def _request(
        self, turn: IncomingTurn, conversation: Any, exchange_id: int, budget: int
    ) -> TurnRequest:
        settings = self._services.settings
        model = conversation.overrides.get("model") or settings.openai.chat_model
        system = _system_messages(settings.chat.system_prompt, conversation.overrides.get("persona"))
        window = await self._services.store.build_window(
            conversation.id,
            budget,
            self._counter(),
            system_messages=system,
            current_exchange_id=exchange_id,
            model=model,
        )
        context = self._tool_context(turn, conversation)
        registry = self._services.registry
        available = registry.available(context, settings.tools.enabled)
        allowed = [tool.name for tool in available]

        def make_dispatcher(on_event: Callable[[Any], None]) -> Dispatcher:
            return Dispatcher(
                registry,
                context,
                allowed,
                concurrency=settings.chat.tool_concurrency,
                retry_budget=settings.chat.tool_retry_budget,
                ledger=self._services.store,
                on_event=on_event,
            )

        return TurnRequest(
            model=model,
            messages=window,
            tools=registry.openai_tools(available),
            make_dispatcher=make_dispatcher if available else None,
            limits=LoopLimits(
                settings.chat.max_rounds, settings.chat.max_tool_calls, settings.chat.turn_deadline_s
            ),
            max_output_tokens=settings.openai.max_output_tokens,
            temperature=settings.openai.temperature,
        )

    def _tool_context(self, turn: IncomingTurn, conversation: Any) -> ToolContext:
        from tools import Permissions

        settings = self._services.settings
        permissions = (
            Permissions(turn.member_permissions) if turn.member_permissions is not None else None
        )
        return ToolContext(
            user_id=turn.user_id,
            user_name=turn.user_name,
            guild_id=turn.guild_id,
            channel_id=turn.channel_id,
            is_owner=turn.is_owner,
            member_permissions=permissions,
            member_top_role=turn.member_top_role,
            locale=turn.locale,
            http=self._services.http,
            tool_settings=settings.tools.config,
            services=self._services.tool_services,
            conversation_id=str(conversation.id),
            turn_id=str(turn.source_message_id),
        )

    async def _conclude(
        self, exchange: Any, outcome: Final | Failed, sink: ReplySink, conversation: Any
    ) -> None:
        store = self._services.store
        model = conversation.overrides.get("model") or self._services.settings.openai.chat_model
        usage = Usage(
            model=model,
            prompt_tokens=outcome.usage.prompt_tokens,
            completion_tokens=outcome.usage.completion_tokens,
        )
        turns = [_new_turn(message) for message in outcome.new_messages]
        if isinstance(outcome, Final):
            sent = await sink.finish(outcome)
            await store.complete_exchange(exchange.id, turns, sent, usage)
            return
        sent = await sink.fail(outcome)
        await store.fail_exchange(exchange.id, "failed", outcome.kind, sent_message_ids=sent)


def _system_messages(system_prompt: str, persona: str | None) -> list[dict[str, Any]]:
    messages = [{"role": "system", "content": system_prompt}]
    if persona:
        messages.append({"role": "system", "content": f"Persona for this conversation: {persona}"})
    return messages


def _user_turn(turn: IncomingTurn, counter: TokenCounter) -> UserTurn:
    return UserTurn(
        author_id=turn.user_id,
        author_name=turn.user_name,
        content=turn.text,
        parts=list(turn.parts),
        source_message_id=turn.source_message_id,
    )


def _new_turn(message: dict[str, Any]) -> NewTurn:
    return NewTurn(
        role=message["role"],
        content=message.get("content"),
        tool_calls=message.get("tool_calls") or [],
        tool_call_id=message.get("tool_call_id"),
    )
