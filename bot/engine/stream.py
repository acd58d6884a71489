"""Read one streamed chat completion: text, reasoning, tool calls assembled, usage.

Chunks arrive as the plain dicts the server sent (``chat.completion.chunk`` objects), not as SDK
models: building a pydantic object per chunk was most of the client's CPU per model round.

OpenAI-compatible servers stream tool calls in other shapes than OpenAI (see the emulator's
``bot/testing/openai/profiles.py`` for the documented cases), and the reader copes with each:

* a delta's call is found by its ``id`` first, then by its ``index``; a new ``id`` starts a new
  call even when the ``index`` repeats (Ollama sends ``index: 0`` for every call);
* a delta with neither continues the last call, unless it names a function while the last call
  already has a name and arguments: then it starts the next call (positional);
* calls are listed by the index the server gave them, else in arrival order;
* a call that never got an ``id`` gets ``call_<completion id>_<n>`` (unique per completion);
* a whole call in one delta is just a call whose arguments came at once;
* ``finish_reason: "stop"`` with assembled calls is a tool-call turn (Ollama, older servers).
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
    order: int = 0  # the first index the server gave it, else its arrival position

    def starts_another(self, name: Any) -> bool:
        """Whether a delta naming ``name`` (with no id) begins a new call after this one."""
        return bool(name) and bool(self.name) and bool(self.arguments)


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
    usage_reported: bool = False


@dataclass
class StreamReader:
    """Accumulates the chunks of one response; ``take`` returns the deltas to show at once.

    ``delivered`` turns true with the first text, refusal, reasoning or tool-call delta: from then
    on the response has said something, and a broken stream can no longer be retried unseen.
    """

    delivered: bool = False
    _text: list[str] = field(default_factory=list)
    _reasoning: list[str] = field(default_factory=list)
    _calls: list[_PartialCall] = field(default_factory=list)
    _by_index: dict[int, _PartialCall] = field(default_factory=dict)
    _by_id: dict[str, _PartialCall] = field(default_factory=dict)
    _completion_id: str = ""
    _finish: str | None = None
    _usage: tuple[int, int, int] | None = None

    def take(self, chunk: Any) -> list[TextDelta | ReasoningDelta]:
        """Take one chunk; return its visible and reasoning deltas.

        Raises:
            CorruptStream: the chunk is not shaped like a ``chat.completion.chunk``.
        """
        try:
            return self._take(chunk)
        except (AttributeError, KeyError, TypeError) as exc:
            raise self.corrupt(f"malformed chunk ({type(exc).__name__}: {exc})") from exc

    @property
    def finish_reason(self) -> str | None:
        """The finish_reason seen so far (usage may still follow it), or None.

        ``stop`` after tool calls reads as ``tool_calls``: some servers end a tool-call turn so.
        """
        if self._finish == "stop" and self._calls:
            return "tool_calls"
        return self._finish

    def corrupt(self, detail: str) -> CorruptStream:
        """The error for an unusable chunk, knowing whether anything was delivered before it."""
        return CorruptStream(detail, after_content=self.delivered)

    def finish(self) -> RoundResult:
        """The whole response; raises IncompleteStream when no finish_reason came."""
        if self._finish is None:
            raise IncompleteStream("the stream ended without a finish_reason")
        calls = self._assembled_calls()
        finish = self.finish_reason or self._finish
        prompt, completion, reasoning = self._usage or (0, 0, 0)
        return RoundResult(
            text="".join(self._text),
            reasoning="".join(self._reasoning),
            tool_calls=calls,
            finish_reason=finish,
            prompt_tokens=prompt,
            completion_tokens=completion,
            reasoning_tokens=reasoning,
            usage_reported=self._usage is not None,
        )

    def _take(self, chunk: dict[str, Any]) -> list[TextDelta | ReasoningDelta]:
        if not self._completion_id and isinstance(chunk.get("id"), str):
            self._completion_id = chunk["id"]
        usage = chunk.get("usage")
        if usage:
            details = usage.get("completion_tokens_details") or {}
            self._usage = (
                _count(usage.get("prompt_tokens")),
                _count(usage.get("completion_tokens")),
                _count(details.get("reasoning_tokens")) if isinstance(details, dict) else 0,
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
        partial = self._call_for(call_delta)
        if call_delta.get("id") and not partial.id:
            partial.id = call_delta["id"]
            self._by_id[partial.id] = partial
        function = call_delta.get("function")
        if function:
            if function.get("name"):
                partial.name += function["name"]
            if function.get("arguments"):
                partial.arguments.append(function["arguments"])

    def _call_for(self, call_delta: dict[str, Any]) -> _PartialCall:
        """The call this delta belongs to, new or known (see the module docstring)."""
        index = call_delta.get("index")
        if index is not None and not isinstance(index, int):
            raise TypeError(f"tool call index {index!r} is not an integer")
        call_id = call_delta.get("id")
        function = call_delta.get("function") or {}
        partial: _PartialCall | None = None
        if call_id:
            partial = self._by_id.get(call_id)
            if partial is None and index in self._by_index and not self._by_index[index].id:
                partial = self._by_index[index]  # the id came after the call's first delta
        elif index is not None:
            partial = self._by_index.get(index)
        elif self._calls and not self._calls[-1].starts_another(function.get("name")):
            partial = self._calls[-1]
        if partial is None:
            partial = _PartialCall(order=len(self._calls) if index is None else index)
            self._calls.append(partial)
        if index is not None:
            self._by_index[index] = partial
        return partial

    def _assembled_calls(self) -> list[dict[str, Any]]:
        calls = []
        ordered = sorted(self._calls, key=lambda partial: partial.order)  # stable: ties arrive
        for number, partial in enumerate(ordered):
            calls.append(
                {
                    "id": partial.id or self._made_up_id(number),
                    "type": "function",
                    "function": {"name": partial.name, "arguments": "".join(partial.arguments)},
                }
            )
        return calls

    def _made_up_id(self, number: int) -> str:
        """An id for a call the server sent without one: unique per completion, reproducible."""
        return f"call_{self._completion_id or 'missing'}_{number}"


def _reasoning_of(delta: dict[str, Any]) -> str | None:
    for key in REASONING_KEYS:
        value = delta.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _count(value: Any) -> int:
    """A token count from the usage object; anything but an int counts as 0."""
    return value if isinstance(value, int) else 0
