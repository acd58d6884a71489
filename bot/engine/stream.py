"""Read one streamed chat completion: text, reasoning, tool calls assembled by index, usage.

Chunks arrive as the plain dicts the server sent (``chat.completion.chunk`` objects), not as SDK
models: building a pydantic object per chunk was most of the client's CPU per model round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.engine.events import ReasoningDelta, TextDelta
from bot.engine.failures import CorruptStream, IncompleteStream

REASONING_KEYS = ("reasoning_content", "reasoning")


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class RoundResult:
    """What one streamed response said."""

    text: str
    reasoning: str
    tool_calls: list[dict[str, Any]]
    finish_reason: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    reasoning_items: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StreamReader:
    """Accumulates the chunks of one response; ``take`` returns the deltas to show at once.

    ``delivered`` turns true with the first text, refusal, reasoning or tool-call delta: from then
    on the response has said something, and a broken stream can no longer be retried unseen.
    """

    delivered: bool = False
    _text: list[str] = field(default_factory=list)
    _reasoning: list[str] = field(default_factory=list)
    _calls: dict[int, _PartialCall] = field(default_factory=dict)
    _finish: str | None = None
    _usage: tuple[int, int] = (0, 0)

    def take(self, chunk: Any) -> list[TextDelta | ReasoningDelta]:
        """Take one chunk; return its visible and reasoning deltas.

        Raises:
            CorruptStream: the chunk is not shaped like a ``chat.completion.chunk``.
        """
        try:
            return self._take(chunk)
        except (AttributeError, KeyError, TypeError) as exc:
            raise self.corrupt(f"malformed chunk ({type(exc).__name__}: {exc})") from exc

    def corrupt(self, detail: str) -> CorruptStream:
        """The error for an unusable chunk, knowing whether anything was delivered before it."""
        return CorruptStream(detail, after_content=self.delivered)

    def finish(self) -> RoundResult:
        """The whole response; raises IncompleteStream when no finish_reason came."""
        if self._finish is None:
            raise IncompleteStream("the stream ended without a finish_reason")
        return RoundResult(
            text="".join(self._text),
            reasoning="".join(self._reasoning),
            tool_calls=self._assembled_calls(),
            finish_reason=self._finish,
            prompt_tokens=self._usage[0],
            completion_tokens=self._usage[1],
        )

    def _take(self, chunk: dict[str, Any]) -> list[TextDelta | ReasoningDelta]:
        usage = chunk.get("usage")
        if usage:
            self._usage = (
                _count(usage.get("prompt_tokens")),
                _count(usage.get("completion_tokens")),
            )
        deltas: list[TextDelta | ReasoningDelta] = []
        choices = chunk.get("choices")
        if choices:
            choice = choices[0]
            delta = choice.get("delta")
            if delta:
                self._take_delta(delta, deltas)
            finish = choice.get("finish_reason")
            if finish:
                self._finish = finish
        return deltas

    def _take_delta(self, delta: dict[str, Any], deltas: list[TextDelta | ReasoningDelta]) -> None:
        visible = delta.get("content") or delta.get("refusal")
        if visible:
            self.delivered = True
            self._text.append(visible)
            deltas.append(TextDelta(visible))
        reasoning = _reasoning_of(delta)
        if reasoning:
            self.delivered = True
            self._reasoning.append(reasoning)
            deltas.append(ReasoningDelta(reasoning))
        for call_delta in delta.get("tool_calls") or ():
            self._take_call(call_delta)
            self.delivered = True

    def _take_call(self, call_delta: dict[str, Any]) -> None:
        index = call_delta["index"]
        if not isinstance(index, int):
            raise TypeError(f"tool call index {index!r} is not an integer")
        partial = self._calls.setdefault(index, _PartialCall())
        if call_delta.get("id"):
            partial.id = call_delta["id"]
        function = call_delta.get("function")
        if function:
            if function.get("name"):
                partial.name += function["name"]
            if function.get("arguments"):
                partial.arguments.append(function["arguments"])

    def _assembled_calls(self) -> list[dict[str, Any]]:
        calls = []
        for index in sorted(self._calls):
            partial = self._calls[index]
            calls.append(
                {
                    "id": partial.id or f"call_missing_{index}",
                    "type": "function",
                    "function": {"name": partial.name, "arguments": "".join(partial.arguments)},
                }
            )
        return calls


def _reasoning_of(delta: dict[str, Any]) -> str | None:
    for key in REASONING_KEYS:
        value = delta.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _count(value: Any) -> int:
    """A token count from the usage object; anything but an int counts as 0."""
    return value if isinstance(value, int) else 0
