"""Read one streamed chat completion: text, reasoning, tool calls assembled by index, usage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.engine.events import ReasoningDelta, TextDelta
from bot.engine.failures import IncompleteStream


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


@dataclass
class StreamReader:
    """Accumulates the chunks of one response; ``take`` returns the deltas to show at once."""

    _text: list[str] = field(default_factory=list)
    _reasoning: list[str] = field(default_factory=list)
    _calls: dict[int, _PartialCall] = field(default_factory=dict)
    _finish: str | None = None
    _usage: tuple[int, int] = (0, 0)

    def take(self, chunk: Any) -> list[TextDelta | ReasoningDelta]:
        """Take one chunk; return its visible and reasoning deltas."""
        if chunk.usage is not None:
            self._usage = (chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
        deltas: list[TextDelta | ReasoningDelta] = []
        for choice in chunk.choices[:1]:
            self._take_delta(choice.delta, deltas)
            if choice.finish_reason:
                self._finish = choice.finish_reason
        return deltas

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

    def _take_delta(self, delta: Any, deltas: list[TextDelta | ReasoningDelta]) -> None:
        if delta is None:
            return
        visible = delta.content or getattr(delta, "refusal", None)
        if visible:
            self._text.append(visible)
            deltas.append(TextDelta(visible))
        reasoning = _reasoning_of(delta)
        if reasoning:
            self._reasoning.append(reasoning)
            deltas.append(ReasoningDelta(reasoning))
        for call_delta in delta.tool_calls or ():
            self._take_call(call_delta)

    def _take_call(self, call_delta: Any) -> None:
        partial = self._calls.setdefault(call_delta.index, _PartialCall())
        if call_delta.id:
            partial.id = call_delta.id
        function = call_delta.function
        if function is not None:
            if function.name:
                partial.name += function.name
            if function.arguments:
                partial.arguments.append(function.arguments)

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


def _reasoning_of(delta: Any) -> str | None:
    extra = getattr(delta, "model_extra", None) or {}
    for key in ("reasoning_content", "reasoning"):
        value = extra.get(key)
        if isinstance(value, str) and value:
            return value
    return None
