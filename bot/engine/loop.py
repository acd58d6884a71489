"""The tool-call loop: stream a completion, run the tools it asks for, repeat within bounds.

The wire format is the request's dialect (``dialects.py``: Responses API or Chat Completions);
rounds, tools, retries and the deadline are the same for both.

The loop runs in its own task and hands events to the caller through a queue, so the caller's work
(editing Discord messages) never runs under the loop's deadline and the loop never waits on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import openai

from bot.engine.chat_compat import send_leaving_out_refused
from bot.engine.client import chat_request_options
from bot.engine.dialects import DialectName, attach_reasoning, dialect_for
from bot.engine.events import (
    AnswerUsage,
    EngineEvent,
    Failed,
    Final,
    ReasoningDelta,
    RoundReset,
    StopReason,
    TextComplete,
    TextDelta,
    ToolDone,
    ToolStatus,
)
from bot.engine.failures import NOTICES, Failure, classify
from bot.engine.server_memory import ServerMemory
from bot.engine.stream import RoundResult
from tools import Artifact
from tools.calls import ToolCall, ToolOutcome
from tools.dispatch import Dispatcher

log = logging.getLogger("toolcord.engine")

ROUND_SEPARATOR = "\n\n"
TEXT_ENDS = frozenset({"stop", "length"})
"""finish_reasons after which the answer's text is complete (a TextComplete event follows)."""
# Failures after which the round is asked once more, when ``Failure.retryable`` says it may help.
RETRIED_KINDS = frozenset({"incomplete", "timeout", "corrupt_stream", "unavailable"})


@dataclass(frozen=True)
class LoopLimits:
    """Bounds of one answer: model round trips, tool calls, and wall-clock seconds."""

    max_rounds: int = 6
    max_tool_calls: int = 12
    deadline_s: float = 120.0


@dataclass
class TurnRequest:
    """Everything one answer needs: the window of messages and the tools on offer."""

    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = field(default_factory=list)
    make_dispatcher: Callable[[Callable[[Any], None]], Dispatcher] | None = None
    limits: LoopLimits = field(default_factory=LoopLimits)
    max_output_tokens: int | None = None
    temperature: float | None = None
    dialect: DialectName = "chat"
    reasoning_effort: str | None = None
    reasoning_summary: bool = False
    hosted_web_search: bool = False
    round_gate: Callable[[int], Awaitable[str | StopReason | None]] | None = None
    """Asked before every round after the first with the tokens the turn used so far; a text
    (or a :class:`StopReason`, whose key names the text in the catalogues) stops the turn there
    (a spent budget) and is shown to the user."""
    # Images tools returned, shown to the model: given a round's outcomes, the chat-shaped
    # message that follows the tool results ({"role": "user", "content": [text and image_url
    # parts]}), or None (a model that sees no images). Called only when a tool returned one.
    show_tool_images: Callable[[Sequence[ToolOutcome]], Awaitable[dict[str, Any] | None]] | None = (
        None
    )
    server_memory: ServerMemory = field(default_factory=ServerMemory)
    """What the bot learned about its model server (refused parameters, warnings given); the
    bot passes its own, so what one turn learned holds for the next."""


class _RoundFailed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.detail)
        self.failure = failure


async def run_turn(client: openai.AsyncOpenAI, request: TurnRequest) -> AsyncIterator[EngineEvent]:
    """Run one answer; yields events and always ends with exactly one Final or Failed."""
    queue: asyncio.Queue[EngineEvent] = asyncio.Queue()
    runner = _TurnRunner(client, request, queue.put_nowait)
    task = asyncio.create_task(runner.run(), name="toolcord-turn")
    try:
        while True:
            event = await queue.get()
            yield event
            if isinstance(event, Final | Failed):
                return
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class _TurnRunner:
    def __init__(self, client: openai.AsyncOpenAI, request: TurnRequest, emit: Any) -> None:
        self._client = client
        self._dialect = dialect_for(client, request)
        self._post_options = chat_request_options()
        self._request = request
        self._emit = emit
        self._messages = list(request.messages)
        self._new: list[dict[str, Any]] = []
        self._visible: list[str] = []
        self._reasoning: list[str] = []
        self._artifacts: list[Artifact] = []
        self._usage = AnswerUsage()
        self._tool_calls_used = 0
        self._separator_due = False
        self._dispatcher: Dispatcher | None = None

    async def run(self) -> None:
        try:
            async with asyncio.timeout(self._request.limits.deadline_s):
                await self._rounds()
        except TimeoutError:
            self._finish_on_deadline()
        except _RoundFailed as exc:
            self._fail(exc.failure)
        except Exception as exc:  # the loop must always end with an event
            log.exception("the completion loop failed")
            self._fail(classify(exc))

    async def _rounds(self) -> None:
        limits = self._request.limits
        for round_no in range(1, limits.max_rounds + 1):
            last = round_no == limits.max_rounds or self._tool_calls_used >= limits.max_tool_calls
            gate = self._request.round_gate
            if round_no > 1 and gate is not None:
                stop = await gate(self._usage.prompt_tokens + self._usage.completion_tokens)
                if stop is not None:
                    self._stop(stop)
                    return
            result = await self._stream_round(tools_allowed=not last)
            if result.finish_reason == "tool_calls" and result.tool_calls and not last:
                await self._run_tools(result)
                continue
            self._finish(result, round_no)
            return

    async def _stream_round(self, *, tools_allowed: bool) -> RoundResult:
        self._separator_due = bool(self._visible)
        for attempt in range(2):
            mark = len(self._visible)
            try:
                result = await self._stream_once(tools_allowed)
            except Exception as exc:
                failure = classify(exc)
                if attempt == 0 and failure.retryable and failure.kind in RETRIED_KINDS:
                    log.warning("retrying a model request once: %s", failure.detail)
                    self._reset_to(mark)
                    continue
                raise _RoundFailed(failure) from exc
            self._usage.add(result.prompt_tokens, result.completion_tokens, result.reasoning_tokens)
            return result
        raise AssertionError("unreachable")

    async def _stream_once(self, tools_allowed: bool) -> RoundResult:
        self._usage.requests += 1
        # The low-level post sends the same body as ``chat.completions.create`` without the SDK's
        # per-request walk of every message against its TypedDicts (a third of a turn's CPU).
        # ``object`` chunks are the decoded JSON dicts: no pydantic model is built per chunk. The
        # URL is absolute and the SDK's telemetry headers are left out (see engine/client.py).
        dialect = self._dialect
        body = dialect.body(self._messages, tools_allowed)
        if dialect.leaves_out_refused:
            # Compatible servers: a parameter this server refused (HTTP 400) is left out, and
            # the request sent again without it (bot/engine/chat_compat.py).
            stream = await send_leaving_out_refused(
                self._request.server_memory.refused, body, self._post
            )
        else:
            stream = await self._post(body)
        reader = dialect.reader()
        announced = False
        try:
            async for chunk in stream:
                for delta in reader.take(chunk):
                    self._show(delta)
                if not announced and reader.finish_reason in TEXT_ENDS:
                    announced = True  # the answer's text is complete: say so before usage, close
                    self._emit(TextComplete())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise reader.corrupt(f"unparseable chunk ({type(exc).__name__}: {exc})") from exc
        finally:
            await stream.close()
        return reader.finish()

    async def _post(self, body: dict[str, Any]) -> openai.AsyncStream[object]:
        dialect = self._dialect
        return await self._client.post(
            dialect.url,
            body=body,
            cast_to=object,
            options=self._post_options,
            stream=True,
            stream_cls=dialect.stream_cls,
        )

    def _show(self, delta: TextDelta | ReasoningDelta) -> None:
        if isinstance(delta, ReasoningDelta):
            self._reasoning.append(delta.text)
            self._emit(delta)
            return
        if self._separator_due:
            self._separator_due = False
            self._visible.append(ROUND_SEPARATOR)
            self._emit(TextDelta(ROUND_SEPARATOR))
        self._visible.append(delta.text)
        self._emit(delta)

    def _reset_to(self, mark: int) -> None:
        if len(self._visible) > mark:
            del self._visible[mark:]
            self._emit(RoundReset("".join(self._visible)))
        self._separator_due = bool(self._visible)

    async def _run_tools(self, result: RoundResult) -> None:
        assistant: dict[str, Any] = {"role": "assistant", "content": result.text or None}
        assistant["tool_calls"] = result.tool_calls
        attach_reasoning(assistant, result, self._dialect.family)
        self._append(assistant)
        budget = max(0, self._request.limits.max_tool_calls - self._tool_calls_used)
        runnable, refused = result.tool_calls[:budget], result.tool_calls[budget:]
        self._tool_calls_used += len(runnable)
        outcomes = await self._dispatch([_tool_call(call) for call in runnable])
        for outcome in outcomes:
            self._artifacts.extend(outcome.artifacts)
            self._append(
                {"role": "tool", "tool_call_id": outcome.call_id, "content": outcome.content}
            )
        for call in refused:
            self._append({"role": "tool", "tool_call_id": call["id"], "content": _over_budget()})
        show = self._request.show_tool_images
        if show is not None and any(outcome.images_for_model for outcome in outcomes):
            follow = await show(outcomes)
            if follow is not None:
                self._append(follow)

    async def _dispatch(self, calls: Sequence[ToolCall]) -> list[ToolOutcome]:
        make_dispatcher = self._request.make_dispatcher
        if make_dispatcher is None:
            return [_no_tools(call) for call in calls]
        if self._dispatcher is None:
            self._dispatcher = make_dispatcher(self._on_tool_event)
        return await self._dispatcher.run(calls)

    def _on_tool_event(self, event: Any) -> None:
        outcome = getattr(event, "outcome", None)
        if outcome is not None:
            self._emit(ToolDone(outcome))
            return
        call = event.call
        text = getattr(event, "progress_text", None) or getattr(event, "text", "")
        self._emit(ToolStatus(call.id, call.name, str(text)))

    def _append(self, message: dict[str, Any]) -> None:
        self._messages.append(message)
        self._new.append(message)

    def _finish(self, result: RoundResult, rounds: int) -> None:
        notice, key, values = "", None, {}
        if result.finish_reason == "content_filter":
            self._fail(Failure("content_filtered", "finish_reason content_filter"))
            return
        if result.finish_reason == "length":
            notice, key = NOTICES["notice.cut_short"], "notice.cut_short"
        elif result.finish_reason == "tool_calls":
            key, values = "notice.steps", {"rounds": rounds}
            notice = NOTICES[key].format(**values)
        answer: dict[str, Any] = {"role": "assistant", "content": result.text}
        attach_reasoning(answer, result, self._dialect.family)
        self._append(answer)
        self._emit(self._final(notice, key, values))

    def _final(
        self, notice: str, key: str | None = None, values: dict[str, Any] | None = None
    ) -> Final:
        """The final answer; ``key`` and ``values`` name ``notice`` in the catalogues."""
        return Final(
            text="".join(self._visible),
            new_messages=self._complete_messages(),
            usage=self._usage,
            artifacts=self._artifacts,
            reasoning="".join(self._reasoning),
            notice=notice,
            notice_key=key,
            notice_values=values or {},
        )

    def _finish_on_deadline(self) -> None:
        if not "".join(self._visible).strip():
            self._fail(Failure("timeout", "turn deadline passed"))
            return
        self._append({"role": "assistant", "content": "".join(self._visible)})
        self._emit(self._final(NOTICES["notice.out_of_time"], "notice.out_of_time"))

    def _stop(self, stop: str | StopReason) -> None:
        """End the turn before its next round (the round gate said no), keeping what it has."""
        reason = stop if isinstance(stop, str) else stop.message
        key = None if isinstance(stop, str) else stop.key
        values = {} if isinstance(stop, str) else dict(stop.values)
        log.info("a turn was stopped before its next model round: %s", reason)
        if "".join(self._visible).strip():
            self._append({"role": "assistant", "content": "".join(self._visible)})
            self._emit(self._final(f"({reason})", key, values))
            return
        self._emit(
            Failed(
                kind="stopped",
                user_message=reason,
                message_key=key,
                message_values=values,
                partial_text="",
                new_messages=self._complete_messages(),
                usage=self._usage,
                artifacts=self._artifacts,
            )
        )

    def _fail(self, failure: Failure) -> None:
        if failure.owner_action:
            log.error("owner action needed: %s (%s)", failure.owner_action, failure.detail)
        else:
            log.warning("answer failed: %s (%s)", failure.kind, failure.detail)
        self._emit(
            Failed(
                kind=failure.kind,
                user_message=failure.user_message,
                partial_text="".join(self._visible),
                message_key=failure.message_key,
                new_messages=self._complete_messages(),
                usage=self._usage,
                artifacts=self._artifacts,
            )
        )

    def _complete_messages(self) -> list[dict[str, Any]]:
        """The new messages, without a trailing tool round whose results are missing."""
        messages = list(self._new)
        answered = {m["tool_call_id"] for m in messages if m["role"] == "tool"}
        for index in range(len(messages) - 1, -1, -1):
            calls = messages[index].get("tool_calls") or []
            if any(call["id"] not in answered for call in calls):
                return messages[:index]
        return messages


def _tool_call(call: dict[str, Any]) -> ToolCall:
    function = call.get("function") or {}
    return ToolCall(call["id"], function.get("name", ""), function.get("arguments", ""))


def _no_tools(call: ToolCall) -> ToolOutcome:
    return ToolOutcome(
        call_id=call.id,
        name=call.name,
        content=f"Unknown tool '{call.name}': no tools are available here. Answer without tools.",
        status="unknown_tool",
    )


def _over_budget() -> str:
    return (
        "Not run: the limit of tool calls for this answer was reached. "
        "Answer the user with what you have."
    )
