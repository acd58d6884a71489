"""Read one streamed Responses API answer into the same ``RoundResult`` as a chat completion.

Events arrive as the plain dicts the server sent (no SDK model per event). Text comes from
``response.output_text.delta`` (and ``response.refusal.delta``), reasoning summaries from
``response.reasoning_summary_text.delta``, function calls from ``response.output_item.added`` /
``response.function_call_arguments.*`` / ``response.output_item.done``, and the outcome from the
terminal event: ``response.completed``, ``response.incomplete`` (its reason maps to chat's
``finish_reason``), ``response.failed`` or ``error`` (both raise :class:`ResponseFailed`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.engine.client import NamedEventStream
from bot.engine.events import ReasoningDelta, TextDelta
from bot.engine.failures import CorruptStream, IncompleteStream, ResponseFailed
from bot.engine.stream import RoundResult

Delta = TextDelta | ReasoningDelta
INCOMPLETE_FINISH = {"max_output_tokens": "length", "content_filter": "content_filter"}
KEPT_REASONING_KEYS = ("type", "id", "summary", "encrypted_content")
MAX_SOURCE_TITLE = 120


@dataclass
class _Call:
    call_id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class ResponsesReader:
    """Accumulates the events of one response; ``take`` returns the deltas to show at once.

    ``delivered`` turns true with the first text, refusal, reasoning summary or function call.
    """

    delivered: bool = False
    _text: list[str] = field(default_factory=list)
    _reasoning: list[str] = field(default_factory=list)
    _calls: dict[int, _Call] = field(default_factory=dict)
    _reasoning_items: list[dict[str, Any]] = field(default_factory=list)
    _sources: dict[str, str] = field(default_factory=dict)
    _finish: str | None = None
    _usage: tuple[int, int, int] = (0, 0, 0)

    def take(self, event: Any) -> list[Delta]:
        """Take one event; return its visible and reasoning deltas.

        Raises:
            CorruptStream: the event is not shaped like a Responses stream event.
            ResponseFailed: the event is ``response.failed`` or ``error``.
        """
        try:
            handler = _HANDLERS.get(event["type"])
            return handler(self, event) if handler is not None else []
        except (AttributeError, KeyError, TypeError) as exc:
            raise self.corrupt(f"malformed event ({type(exc).__name__}: {exc})") from exc

    @property
    def finish_reason(self) -> str | None:
        """How the response ended so far (``tool_calls`` when it asked for calls), or None."""
        if self._finish == "stop" and self._calls:
            return "tool_calls"
        return self._finish

    def corrupt(self, detail: str) -> CorruptStream:
        """The error for an unusable event, knowing whether anything was delivered before it."""
        return CorruptStream(detail, after_content=self.delivered)

    def finish(self) -> RoundResult:
        """The whole response; raises IncompleteStream when no terminal event came."""
        if self._finish is None:
            raise IncompleteStream("the stream ended without response.completed")
        calls = [
            {
                "id": call.call_id or f"call_missing_{index}",
                "type": "function",
                "function": {"name": call.name, "arguments": "".join(call.arguments)},
            }
            for index, call in sorted(self._calls.items())
        ]
        finish = self.finish_reason or self._finish
        return RoundResult(
            text="".join(self._text),
            reasoning="".join(self._reasoning),
            tool_calls=calls,
            finish_reason=finish,
            prompt_tokens=self._usage[0],
            completion_tokens=self._usage[1],
            reasoning_tokens=self._usage[2],
            reasoning_items=self._reasoning_items,
        )

    # ---- handlers ---------------------------------------------------------------------------

    def _text_delta(self, event: dict[str, Any]) -> list[Delta]:
        delta = event["delta"]
        if not delta:
            return []
        self.delivered = True
        self._text.append(delta)
        return [TextDelta(delta)]

    def _summary_delta(self, event: dict[str, Any]) -> list[Delta]:
        delta = event["delta"]
        if not delta:
            return []
        self.delivered = True
        self._reasoning.append(delta)
        return [ReasoningDelta(delta)]

    def _item_added(self, event: dict[str, Any]) -> list[Delta]:
        item = event["item"]
        if item["type"] == "function_call":
            self.delivered = True
            self._calls[event["output_index"]] = _Call(item.get("call_id", ""), item["name"])
        return []

    def _arguments_delta(self, event: dict[str, Any]) -> list[Delta]:
        self._calls.setdefault(event["output_index"], _Call()).arguments.append(event["delta"])
        return []

    def _item_done(self, event: dict[str, Any]) -> list[Delta]:
        item = event["item"]
        kind = item["type"]
        if kind == "function_call":
            self.delivered = True
            self._calls[event["output_index"]] = _Call(
                item["call_id"], item["name"], [item.get("arguments") or ""]
            )
        elif kind == "reasoning":
            kept = {key: item[key] for key in KEPT_REASONING_KEYS if item.get(key) is not None}
            self._reasoning_items.append(kept)
        return []

    def _annotation(self, event: dict[str, Any]) -> list[Delta]:
        annotation = event.get("annotation") or {}
        url = annotation.get("url")
        if annotation.get("type") == "url_citation" and isinstance(url, str) and url:
            title = " ".join(str(annotation.get("title") or url).split())[:MAX_SOURCE_TITLE]
            self._sources.setdefault(url, title)
        return []

    def _sources_footer(self) -> list[Delta]:
        """The cited web pages as a list under the answer (the renderer guards the links)."""
        if not self._sources:
            return []
        lines = "\n".join(f"- {title}: {url}" for url, title in self._sources.items())
        footer = f"\n\nSources:\n{lines}"
        self._text.append(footer)
        return [TextDelta(footer)]

    def _terminal(self, event: dict[str, Any]) -> list[Delta]:
        response = event["response"]
        details = response.get("incomplete_details") or {}
        reason = details.get("reason") if event["type"] == "response.incomplete" else None
        self._finish = INCOMPLETE_FINISH.get(reason or "", "length") if reason else "stop"
        usage = response.get("usage") or {}
        output_details = usage.get("output_tokens_details") or {}
        self._usage = (
            _count(usage.get("input_tokens")),
            _count(usage.get("output_tokens")),
            _count(output_details.get("reasoning_tokens")),
        )
        return self._sources_footer()

    def _failed(self, event: dict[str, Any]) -> list[Delta]:
        error = event["response"].get("error") or {}
        raise ResponseFailed(
            str(error.get("code") or "server_error"),
            str(error.get("message") or "response.failed without a message"),
            after_content=self.delivered,
        )

    def _error(self, event: dict[str, Any]) -> list[Delta]:
        raise ResponseFailed(
            str(event.get("code") or "server_error"),
            str(event.get("message") or "an error event without a message"),
            after_content=self.delivered,
        )


_HANDLERS: dict[str, Callable[[ResponsesReader, dict[str, Any]], list[Delta]]] = {
    "response.output_text.delta": ResponsesReader._text_delta,
    "response.refusal.delta": ResponsesReader._text_delta,
    "response.reasoning_summary_text.delta": ResponsesReader._summary_delta,
    "response.output_item.added": ResponsesReader._item_added,
    "response.function_call_arguments.delta": ResponsesReader._arguments_delta,
    "response.output_item.done": ResponsesReader._item_done,
    "response.output_text.annotation.added": ResponsesReader._annotation,
    "response.completed": ResponsesReader._terminal,
    "response.incomplete": ResponsesReader._terminal,
    "response.failed": ResponsesReader._failed,
    "error": ResponsesReader._error,
}


def _count(value: Any) -> int:
    return value if isinstance(value, int) else 0


class ResponsesEventStream(NamedEventStream):
    """The Responses stream, decoding only the events :class:`ResponsesReader` reads."""

    wanted = frozenset(_HANDLERS)
