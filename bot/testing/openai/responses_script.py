"""``emu.responses``: the scripted ``/v1/responses`` route (queue, faults and default like chat)."""

from __future__ import annotations

from typing import Any

from .replies import RefusalReply, TextReply, ToolCall, ToolCallsReply
from .responses_replies import (
    Citation,
    FailedReply,
    ResponsesReply,
    StreamErrorReply,
    WebSearchReply,
)
from .script import Request, RouteScript


def echo_input(request: Request) -> TextReply:
    """Default responder: ``"echo: <last user text>"`` from ``input``."""
    value = request.get("input")
    if isinstance(value, str):
        return TextReply(f"echo: {value}")
    for item in reversed(value if isinstance(value, list) else []):
        if isinstance(item, dict) and item.get("role") == "user":
            return TextReply(f"echo: {input_text(item.get('content'))}")
    return TextReply("echo: ")


def input_text(content: Any) -> str:
    """The text of a Responses message's ``content`` (a string or ``input_text`` parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = (
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") in ("input_text", "output_text")
        )
        return " ".join(texts)
    return ""


class ResponsesScript(RouteScript[ResponsesReply]):
    """``emu.responses``: scripted Responses API answers.

    Replies: every chat reply (``TextReply``, ``ToolCallsReply``, ``RefusalReply``, ``str``),
    :class:`FailedReply` (``response.failed``) and :class:`StreamErrorReply` (an ``error`` event),
    or a :class:`~.faults.Fault`. ``TextReply.reasoning_content`` is the reasoning summary sent
    when the request asks for one.

    Attributes:
        chunk_size: default characters per streamed delta (replies may override).
        context_window: when set, a request whose estimated input tokens (plus its
            ``max_output_tokens``) exceed it gets 400 ``context_length_exceeded``.
    """

    def __init__(self) -> None:
        super().__init__("/v1/responses", echo_input)
        self.chunk_size: int = 16
        self.context_window: int | None = None

    def reply_text(self, content: str, **options: Any) -> None:
        """Queue a text answer; ``options`` are :class:`TextReply` fields."""
        self.reply(TextReply(content, **options))

    def reply_tool_calls(self, calls: list[ToolCall], **options: Any) -> None:
        """Queue function calls (in parallel when more than one)."""
        self.reply(ToolCallsReply(calls, **options))

    def reply_refusal(self, refusal: str = RefusalReply.refusal, **options: Any) -> None:
        """Queue a refusal content part."""
        self.reply(RefusalReply(refusal, **options))

    def reply_failed(self, **options: Any) -> None:
        """Queue a response that ends with ``response.failed``."""
        self.reply(FailedReply(**options))

    def reply_stream_error(self, **options: Any) -> None:
        """Queue a stream that carries an ``error`` event."""
        self.reply(StreamErrorReply(**options))

    def reply_web_search(
        self, text: str, *, query: str, citations: list[Citation], **options: Any
    ) -> None:
        """Queue a hosted ``web_search`` call and an answer citing ``citations``."""
        self.reply(WebSearchReply(text=text, query=query, citations=citations, **options))
