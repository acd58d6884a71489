"""The two wire dialects of a model round: Chat Completions and the Responses API.

A dialect builds the request (URL and body) from the loop's chat-shaped messages and reads the
stream into a :class:`~bot.engine.stream.RoundResult`; the loop's rounds, tools, retries and
deadline are the same for both, and so are the engine events callers see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Protocol

import openai

from bot.engine.client import chat_completions_url, responses_url
from bot.engine.events import ReasoningDelta, TextDelta
from bot.engine.failures import CorruptStream
from bot.engine.model_rules import can_reason, chat_effort, model_family
from bot.engine.responses import (
    ENCRYPTED_REASONING,
    REASONING_KEY,
    function_tools,
    instructions_and_input,
    without_reasoning,
)
from bot.engine.responses_stream import ResponsesEventStream, ResponsesReader
from bot.engine.stream import RoundResult, StreamReader

if TYPE_CHECKING:
    from bot.engine.loop import TurnRequest

DialectName = Literal["chat", "responses"]


class Reader(Protocol):
    """Reads one streamed answer (see ``StreamReader`` and ``ResponsesReader``)."""

    @property
    def finish_reason(self) -> str | None: ...

    def take(self, chunk: Any) -> list[TextDelta | ReasoningDelta]: ...

    def corrupt(self, detail: str) -> CorruptStream: ...

    def finish(self) -> RoundResult: ...


class Dialect(Protocol):
    """Builds one round's request and its stream reader."""

    url: str
    family: str
    stream_cls: type[openai.AsyncStream[object]]
    leaves_out_refused: bool
    """Whether a parameter the server refuses is left out and the request sent again (chat:
    OpenAI-compatible servers differ; the Responses API is OpenAI's own)."""

    def body(self, messages: list[dict[str, Any]], tools_allowed: bool) -> dict[str, Any]: ...

    def reader(self) -> Reader: ...


def dialect_for(client: openai.AsyncOpenAI, request: TurnRequest) -> Dialect:
    """The dialect ``request`` asks for."""
    if request.dialect == "responses":
        return ResponsesDialect(client, request)
    return ChatDialect(client, request)


class ChatDialect:
    """``POST /chat/completions``; reasoning attachments are left out of the messages."""

    def __init__(self, client: openai.AsyncOpenAI, request: TurnRequest) -> None:
        self.url = chat_completions_url(client)
        self.stream_cls: type[openai.AsyncStream[object]] = openai.AsyncStream[object]
        self.leaves_out_refused = True
        self.family = model_family(request.model)
        self._request = request
        effort = chat_effort(request.model, request.reasoning_effort, has_tools=bool(request.tools))
        if effort.reason:
            request.server_memory.warn_once(effort.reason)
        self._effort = effort.effort

    def body(self, messages: list[dict[str, Any]], tools_allowed: bool) -> dict[str, Any]:
        request = self._request
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": without_reasoning(messages),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.tools:
            kwargs["tools"] = request.tools
            kwargs["tool_choice"] = "auto" if tools_allowed else "none"
        if request.max_output_tokens:
            kwargs["max_completion_tokens"] = request.max_output_tokens
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if self._effort is not None:
            kwargs["reasoning_effort"] = self._effort
        return kwargs

    def reader(self) -> Reader:
        return StreamReader()


class ResponsesDialect:
    """``POST /responses``, stateless: ``store: false`` with encrypted reasoning sent back.

    Messages are converted once each: the window on the first round, then only what the loop
    appended since.
    """

    def __init__(self, client: openai.AsyncOpenAI, request: TurnRequest) -> None:
        self.url = responses_url(client)
        self.stream_cls: type[openai.AsyncStream[object]] = ResponsesEventStream
        self.leaves_out_refused = False
        self.family = model_family(request.model)
        self._request = request
        hosted = ("web_search",) if request.hosted_web_search else ()
        self._tools = function_tools(request.tools, hosted=hosted)
        self._converted = 0
        self._instructions: list[str] = []
        self._input: list[dict[str, Any]] = []
        reasoning: dict[str, Any] = {}
        if request.reasoning_effort is not None:
            reasoning["effort"] = request.reasoning_effort
        if request.reasoning_summary:
            reasoning["summary"] = "auto"
        self._reasoning = reasoning
        self._encrypted = can_reason(request.model)

    def body(self, messages: list[dict[str, Any]], tools_allowed: bool) -> dict[str, Any]:
        self._convert(messages)
        request = self._request
        body: dict[str, Any] = {
            "model": request.model,
            "input": self._input,
            "stream": True,
            "store": False,
        }
        if self._encrypted:
            body["include"] = [ENCRYPTED_REASONING]
        if self._instructions:
            body["instructions"] = "\n\n".join(self._instructions)
        if self._tools:
            body["tools"] = self._tools
            body["tool_choice"] = "auto" if tools_allowed else "none"
            body["parallel_tool_calls"] = True
        if request.max_output_tokens:
            body["max_output_tokens"] = request.max_output_tokens
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if self._reasoning:
            body["reasoning"] = self._reasoning
        return body

    def reader(self) -> Reader:
        return ResponsesReader()

    def _convert(self, messages: list[dict[str, Any]]) -> None:
        if len(messages) < self._converted:  # a caller rebuilt the list: start over
            self._converted, self._instructions, self._input = 0, [], []
        instructions, items = instructions_and_input(messages[self._converted :], self.family)
        if instructions:
            self._instructions.append(instructions)
        self._input.extend(items)
        self._converted = len(messages)


def attach_reasoning(message: dict[str, Any], result: RoundResult, family: str) -> None:
    """Keep ``result``'s reasoning items with the assistant ``message``, tagged with ``family``."""
    if result.reasoning_items:
        message[REASONING_KEY] = {"family": family, "items": list(result.reasoning_items)}
