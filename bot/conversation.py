"""The conversation service: one user turn in, one answer out, durably.

It stores the user's turn (once per Discord message id), builds the window under the token budget,
runs the completion loop, hands the loop's events to a sink (Discord delivery, or any other front
end) and stores the outcome with the ids of the messages the sink sent. It knows no Discord.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import aiohttp
import openai

from bot.conversation_images import StoreImageLibrary, ToolImages, images_note
from bot.engine import AnswerUsage as EngineUsage
from bot.engine import (
    EngineEvent,
    Failed,
    Final,
    LoopLimits,
    RoundReset,
    ServerMemory,
    TextDelta,
    TurnRequest,
    run_turn,
)
from bot.errors import ReplyUnavailable, StoreError
from bot.i18n import Catalogue, language_name
from bot.keyed_locks import KeyedLocks
from bot.localized_sink import LocalizedSink
from bot.models import tool_config
from bot.policy import Refusal, TurnPolicy
from bot.policy.gate import RoundPolicy
from bot.settings import Settings
from bot.store import Conversation, Exchange, NewTurn, Store, TokenCounter, Usage, UserTurn
from tools import Artifact, Permissions, ToolContext
from tools.deps import ToolDeps
from tools.dispatch import Dispatcher
from tools.mcp.selection import select_tools
from tools.registry import ToolRegistry

USER_LOCALE_LINE = (
    "The user's Discord language is {}. Answer in that language unless they write in another "
    "one or the persona says otherwise."
)
log = logging.getLogger("toolcord.conversation")

MIN_RETRY_BUDGET = 1_000
STORE_FAILED = (
    "I can't save messages right now, so I can't answer safely. The bot owner has been told."
)
TOOL_SETS_KEPT = 64


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
    guild_locale: str | None = None  # the server's preferred locale, for the bot's own words
    files: list[Artifact] = field(default_factory=list)
    overrides: dict[str, Any] = field(default_factory=dict)


class ReplySink(Protocol):
    """Where an answer goes. Delivery implements it for Discord."""

    async def on_event(self, event: EngineEvent) -> None:
        """See a streaming event (cheap: must not wait on the network)."""

    async def finish(self, final: Final) -> list[int]:
        """Deliver the complete answer; return the ids of every message sent for it."""

    async def fail(self, failed: Failed) -> list[int]:
        """Tell the user the answer failed; return the ids of every message sent for it."""


class TurnObserver(Protocol):
    """Watches every turn without changing it (metrics)."""

    def on_event(self, event: EngineEvent) -> None:
        """See a streaming event of a running turn."""

    def on_outcome(self, turn: IncomingTurn, outcome: Final | Failed) -> None:
        """See the turn's outcome before it is delivered."""


class ContextSource(Protocol):
    """Adds system messages to a turn's window (issue 18: summary, memories, knowledge offered).

    A source may also have ``async notice(conversation_id) -> str``: a line shown under the
    answer.
    """

    async def system_messages(
        self, user_id: int, user_name: str, guild_id: int | None, conversation_id: int, text: str
    ) -> list[dict[str, Any]]:
        """The system messages to add after the prompt and persona (counted in the window)."""
        ...


@dataclass
class Services:
    """What the service needs, injected by the composition root."""

    settings: Settings
    store: Store
    client: openai.AsyncOpenAI
    registry: ToolRegistry
    counter: TokenCounter
    http: aiohttp.ClientSession | None = None
    # What tools get on every turn; the turn's files and the conversation's images are added.
    tool_deps: ToolDeps = field(default_factory=ToolDeps)
    policies: list[TurnPolicy] = field(default_factory=list)
    observers: list[TurnObserver] = field(default_factory=list)
    catalogue: Catalogue | None = None  # the bot's own words per locale; None: English as written
    context_sources: list[ContextSource] = field(default_factory=list)


class ConversationService:
    """Takes user turns and answers them; one conversation at a time, many in parallel."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._server_memory = ServerMemory()  # what the model server refused, warnings given
        self._locks = KeyedLocks()
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._tool_entries_by_set: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        self._tool_tokens: dict[tuple[int, str], int] = {}

    def _tool_entries(self, available: list[Any]) -> list[dict[str, Any]]:
        """The ``tools`` entries of a set of tools, built once per set (each is a deep copy)."""
        key = tuple(available)
        entries = self._tool_entries_by_set.get(key)
        if entries is None:
            if len(self._tool_entries_by_set) >= TOOL_SETS_KEPT:
                self._tool_entries_by_set.clear()
                self._tool_tokens.clear()
            entries = self._services.registry.openai_tools(available)
            self._tool_entries_by_set[key] = entries
        return entries

    def _count_tools(self, tools: list[dict[str, Any]], model: str) -> int:
        """Raw tokens of a cached tool list (one of ``_tool_entries``'), counted once per model."""
        key = (id(tools), model)
        count = self._tool_tokens.get(key)
        if count is None:
            count = self._tool_tokens[key] = self._counter().count_tools(tools, model)
        return count

    async def handle(
        self, turn: IncomingTurn, make_sink: Callable[[], Awaitable[ReplySink]]
    ) -> bool:
        """Answer ``turn``; returns False if it was a duplicate (already accepted before).

        ``make_sink`` is called only once the turn is accepted, so a duplicate sends nothing.
        """
        self._running += 1
        self._idle.clear()
        try:
            async with self._locks.hold(turn.key):
                return await self._handle_in_order(turn, make_sink)
        finally:
            self._running -= 1
            if self._running == 0:
                self._idle.set()

    @property
    def running(self) -> int:
        """Turns being handled now (queued behind another turn of their conversation included)."""
        return self._running

    async def drain(self, timeout_s: float) -> int:
        """Wait up to ``timeout_s`` until no turn runs; returns how many still run then.

        Turns that start meanwhile are waited for too; those cut off by the deadline are stored
        as pending and reported as interrupted at the next start.
        """
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            log.warning("%d answers were still running at shutdown", self._running)
        return self._running

    async def _handle_in_order(
        self, turn: IncomingTurn, make_sink: Callable[[], Awaitable[ReplySink]]
    ) -> bool:
        try:
            return await self._accept_and_answer(turn, make_sink)
        except StoreError as exc:
            log.error("owner action needed: the conversation store failed (%s)", exc)
            try:
                sink = self._localized(turn, await make_sink())
            except ReplyUnavailable:
                return False
            await sink.fail(_refused(Refusal("store", STORE_FAILED, key="failure.store")))
            return False

    async def _accept_and_answer(
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
        exchange = await store.begin_exchange(conversation.id, _user_turn(turn))
        if exchange is None:
            log.info("message %s was already accepted; not answering twice", turn.source_message_id)
            return False
        try:
            sink = self._localized(turn, await make_sink())
        except ReplyUnavailable as exc:
            log.info("not answering message %s: %s", turn.source_message_id, exc)
            await store.fail_exchange(exchange.id, "failed", f"delivery: {type(exc).__name__}")
            return True
        # If this task is cancelled (the bot stops), the exchange stays pending on purpose: the
        # next start's recover() marks it interrupted and the user is told, exactly once.
        await self._answer(turn, conversation, exchange, sink)
        return True

    def _localized(self, turn: IncomingTurn, sink: ReplySink) -> ReplySink:
        """``sink`` showing the bot's own words in the turn's language (else the server's)."""
        catalogue = self._services.catalogue
        if catalogue is None:
            return sink
        return LocalizedSink(sink, catalogue, turn.locale or turn.guild_locale)

    def _counter(self) -> TokenCounter:
        return self._services.counter

    async def _answer(
        self, turn: IncomingTurn, conversation: Conversation, exchange: Exchange, sink: ReplySink
    ) -> None:
        admitted, refusal = await self._before_turn(turn)
        if refusal is not None:
            for policy in admitted:
                await policy.after_turn(turn, EngineUsage(), self._model(turn, conversation))
            sent = await sink.fail(_refused(refusal))
            await self._services.store.fail_exchange(
                exchange.id, "failed", f"refused: {refusal.kind}", sent_message_ids=sent
            )
            return
        if await self._holds_output(turn):
            sink = _HoldingSink(sink)
        budget = self._services.settings.openai.context_tokens
        outcome, sent_tokens = await self._run_once(turn, conversation, exchange.id, sink, budget)
        if isinstance(outcome, Failed) and outcome.kind == "context_too_long":
            smaller = max(MIN_RETRY_BUDGET, sent_tokens // 2)
            log.info(
                "context too long for conversation %s; retrying with %d tokens",
                conversation.id,
                smaller,
            )
            outcome, _ = await self._run_once(turn, conversation, exchange.id, sink, smaller)
        for observer in self._services.observers:
            observer.on_outcome(turn, outcome)
        try:
            await self._conclude(turn, exchange, outcome, sink, conversation)
        finally:
            for policy in self._services.policies:
                await policy.after_turn(turn, outcome.usage, self._model(turn, conversation))

    async def _before_turn(self, turn: IncomingTurn) -> tuple[list[TurnPolicy], Refusal | None]:
        """Ask each policy in order; returns those that admitted the turn and the refusal."""
        admitted: list[TurnPolicy] = []
        for policy in self._services.policies:
            refusal = await policy.before_turn(turn)
            if refusal is not None:
                return admitted, refusal
            admitted.append(policy)
        return admitted, None

    async def _holds_output(self, turn: IncomingTurn) -> bool:
        for policy in self._services.policies:
            if await policy.holds_output(turn):
                return True
        return False

    async def _review(self, turn: IncomingTurn, final: Final) -> Refusal | None:
        for policy in self._services.policies:
            refusal = await policy.review_answer(turn, final.text)
            if refusal is not None:
                return refusal
        return None

    def _model(self, turn: IncomingTurn, conversation: Conversation) -> str:
        return str(
            conversation.overrides.get("model")
            or turn.overrides.get("model")
            or self._services.settings.openai.chat_model
        )

    async def _run_once(
        self,
        turn: IncomingTurn,
        conversation: Conversation,
        exchange_id: int,
        sink: ReplySink,
        budget: int,
    ) -> tuple[Final | Failed, int]:
        """Run the loop once; returns the outcome and the calibrated tokens of the request sent."""
        request = await self._request(turn, conversation, exchange_id, budget)
        counter, model = self._counter(), request.model
        tool_tokens = self._count_tools(request.tools, model)
        raw = counter.count_messages(request.messages, model) + tool_tokens
        async for event in run_turn(self._services.client, request):
            if isinstance(event, Final | Failed):
                # Every request of the turn carries the same tool set (issue 17).
                event.usage.tool_schema_tokens = tool_tokens * event.usage.requests
                if event.usage.requests == 1 and event.usage.prompt_tokens:
                    counter.observe(raw, event.usage.prompt_tokens, model)
                if isinstance(event, Final) and not event.usage.prompt_tokens:
                    # The server sent no usage (LM Studio, or one that refused stream_options):
                    # the ledger and quotas get an estimate, never 0.
                    event.usage.prompt_tokens, event.usage.completion_tokens = (
                        counter.estimate_answer(raw, event.new_messages, event.reasoning, model)
                    )
                return event, counter.scale(raw, model)
            for observer in self._services.observers:
                observer.on_event(event)
            await sink.on_event(event)
        raise AssertionError("the loop ended without an outcome")

    async def _request(
        self, turn: IncomingTurn, conversation: Conversation, exchange_id: int, budget: int
    ) -> TurnRequest:
        settings = self._services.settings
        model = self._model(turn, conversation)
        persona = conversation.overrides.get("persona") or turn.overrides.get("persona")
        system = _system_messages(settings.chat.system_prompt, persona, turn.locale)
        note = await images_note(self._services.store, conversation.id)
        if note is not None:
            system.append(note)
        for source in self._services.context_sources:
            system += await source.system_messages(
                turn.user_id, turn.user_name, turn.guild_id, conversation.id, turn.text
            )
        context = self._tool_context(turn, conversation)
        registry = self._services.registry
        enabled = turn.overrides.get("enabled_tools", settings.tools.enabled)
        available = registry.available(context, enabled)
        # Issue 17: past mcp.max_tools_per_request MCP tools, only the most relevant are sent.
        available = select_tools(available, turn.text, settings.mcp.max_tools_per_request)
        tools = self._tool_entries(available)
        counter = self._counter()
        tools_tokens = counter.scale(self._count_tools(tools, model), model)
        window = await self._services.store.build_window(
            conversation.id,
            max(MIN_RETRY_BUDGET // 2, budget - tools_tokens),
            self._counter(),
            system_messages=system,
            current_exchange_id=exchange_id,
            model=model,
            max_image_bytes=settings.chat.max_image_bytes_per_request,
        )
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
                max_files=settings.chat.max_files_per_answer,
            )

        return TurnRequest(
            model=model,
            server_memory=self._server_memory,
            messages=window,
            tools=tools,
            make_dispatcher=make_dispatcher if available else None,
            limits=LoopLimits(
                settings.chat.max_rounds,
                settings.chat.max_tool_calls,
                settings.chat.turn_deadline_s,
            ),
            max_output_tokens=settings.openai.max_output_tokens,
            temperature=settings.openai.temperature,
            show_tool_images=ToolImages(
                self._services.store, conversation.id, show=settings.inputs.show_tool_images
            ),
            dialect=settings.openai.resolved_dialect(),
            reasoning_effort=turn.overrides.get("reasoning_effort")
            or settings.openai.reasoning_effort,
            reasoning_summary=settings.openai.reasoning_summary,
            hosted_web_search=settings.openai.hosted_web_search,
            round_gate=self._round_gate(turn),
        )

    def _round_gate(self, turn: IncomingTurn) -> Callable[[int], Awaitable[Refusal | None]] | None:
        """What the loop asks before each round after the first: the policies that gate rounds."""
        gates = [p for p in self._services.policies if isinstance(p, RoundPolicy)]
        if not gates:
            return None

        async def gate(used: int) -> Refusal | None:
            for policy in gates:
                refusal = await policy.before_round(turn, used)
                if refusal is not None:
                    return refusal  # its key lets the reply show it in the turn's language
            return None

        return gate

    def _tool_context(self, turn: IncomingTurn, conversation: Conversation) -> ToolContext:
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
            tool_settings=tool_config(settings),
            deps=replace(
                self._services.tool_deps,
                input_files=tuple(turn.files),
                conversation_images=StoreImageLibrary(self._services.store, conversation.id),
            ),
            conversation_id=str(conversation.id),
            turn_id=str(turn.source_message_id),
        )

    async def _conclude(
        self,
        turn: IncomingTurn,
        exchange: Exchange,
        outcome: Final | Failed,
        sink: ReplySink,
        conversation: Conversation,
    ) -> None:
        store = self._services.store
        usage = Usage(
            model=self._model(turn, conversation),
            prompt_tokens=outcome.usage.prompt_tokens,
            completion_tokens=outcome.usage.completion_tokens,
            reasoning_tokens=outcome.usage.reasoning_tokens,
            tool_schema_tokens=outcome.usage.tool_schema_tokens,
        )
        turns = [_new_turn(message) for message in outcome.new_messages]
        try:
            if isinstance(outcome, Final):
                refusal = await self._review(turn, outcome)
                if refusal is None:
                    outcome.notice = await self._notices(conversation.id, outcome.notice)
                    sent = await sink.finish(outcome)
                    await store.complete_exchange(exchange.id, turns, sent, usage)
                    return
                outcome = _refused(refusal, outcome)
            sent = await sink.fail(outcome)
        except Exception as exc:  # delivery failed: record it, never leave the turn pending
            log.warning("could not deliver the answer to %s: %s", turn.channel_id, exc)
            await store.fail_exchange(
                exchange.id,
                "failed",
                f"delivery: {type(exc).__name__}",
                sent_message_ids=list(getattr(sink, "sent_ids", [])),
            )
            await self._record_failed_usage(turn, conversation, exchange, usage)
            return
        await store.fail_exchange(exchange.id, "failed", outcome.kind, sent_message_ids=sent)
        await self._record_failed_usage(turn, conversation, exchange, usage)

    async def _notices(self, conversation_id: int, notice: str) -> str:
        """``notice`` plus the context sources' one-time notices (issue 18: summaries)."""
        lines = [notice] if notice else []
        for source in self._services.context_sources:
            told = getattr(source, "notice", None)
            line = await told(conversation_id) if told is not None else ""
            lines.extend([line] if line else [])
        return " ".join(lines)

    async def _record_failed_usage(
        self, turn: IncomingTurn, conversation: Conversation, exchange: Exchange, usage: Usage
    ) -> None:
        """A failed answer may still have cost tokens: they count against the quotas too."""
        if usage.prompt_tokens or usage.completion_tokens:
            await self._services.store.record_usage(
                usage,
                user_id=turn.user_id,
                guild_id=turn.guild_id,
                conversation_id=conversation.id,
                exchange_id=exchange.id,
            )


class _HoldingSink:
    """Shows no answer text before the answer passed review (tool progress still shows)."""

    def __init__(self, inner: ReplySink) -> None:
        self._inner = inner

    @property
    def sent_ids(self) -> list[int]:
        return list(getattr(self._inner, "sent_ids", []))

    async def on_event(self, event: EngineEvent) -> None:
        if not isinstance(event, TextDelta | RoundReset):
            await self._inner.on_event(event)

    async def finish(self, final: Final) -> list[int]:
        return await self._inner.finish(final)

    async def fail(self, failed: Failed) -> list[int]:
        return await self._inner.fail(failed)


def _refused(refusal: Refusal, final: Final | None = None) -> Failed:
    return Failed(
        kind=refusal.kind,
        user_message=refusal.message,
        message_key=refusal.key,
        message_values=dict(refusal.values),
        partial_text="",
        new_messages=[],
        usage=final.usage if final else EngineUsage(),
    )


def _system_messages(
    system_prompt: str, persona: str | None, locale: str | None = None
) -> list[dict[str, Any]]:
    messages = [{"role": "system", "content": system_prompt}]
    if persona:
        messages.append({"role": "system", "content": f"Persona for this conversation: {persona}"})
    if locale:
        line = USER_LOCALE_LINE.format(language_name(locale))
        messages.append({"role": "system", "content": line})
    return messages


def _user_turn(turn: IncomingTurn) -> UserTurn:
    return UserTurn(
        author_id=turn.user_id,
        author_name=turn.user_name,
        content=turn.text,
        parts=list(turn.parts),
        source_message_id=turn.source_message_id,
    )


def _new_turn(message: dict[str, Any]) -> NewTurn:
    content = message.get("content")
    if isinstance(content, list):  # the images tools returned, shown to the model
        return NewTurn(role=message["role"], content="", parts=list(content))
    return NewTurn(
        role=message["role"],
        content=message.get("content"),
        tool_calls=message.get("tool_calls") or [],
        tool_call_id=message.get("tool_call_id"),
        reasoning=message.get("_reasoning"),
    )
