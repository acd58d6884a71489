"""Per-route scripts: a queue of replies and faults, a default responder and the request log.

Each route of the emulator owns one :class:`RouteScript` (``emu.chat``, ``emu.images``, …). For
each request the route takes, in order:

1. the queued fault at the head of the queue, if any (an error fault answers the request; a
   delivery fault changes how the reply is delivered; ``times`` counts down, ``None`` = sticky);
2. the next queued reply, or else the default responder.

A reply is a reply object, a :class:`~.faults.Fault`, or a function of the parsed request (sync or
async) that returns one of those.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from .faults import Fault
from .profiles import OPENAI, ServerProfile, profile_named
from .replies import (
    ChatReply,
    EmbeddingReply,
    ImageReply,
    ModerationReply,
    RealtimeReply,
    RefusalReply,
    SpeechReply,
    TextReply,
    ToolCall,
    ToolCallsReply,
    TranscriptionReply,
)

ReplyT = TypeVar("ReplyT")
Request: TypeAlias = dict[str, Any]
Responder: TypeAlias = Callable[[Request], Any]


@dataclass
class _QueuedFault:
    fault: Fault
    remaining: int | None


@dataclass(frozen=True)
class Step(Generic[ReplyT]):
    """What a route does for one request: a reply (or None for an error fault) and a fault."""

    reply: ReplyT | None
    fault: Fault | None


class RouteScript(Generic[ReplyT]):
    """The scripted behaviour of one route; see the module docstring."""

    def __init__(self, path: str, default: ReplyT | Responder) -> None:
        self.path = path
        self.latency: float = 0.0
        self.requests: list[Request] = []
        self._queue: deque[Any] = deque()
        self._default: Any = default

    @property
    def attempts(self) -> int:
        """How many well-formed requests this route received (faulted ones included)."""
        return len(self.requests)

    @property
    def pending(self) -> int:
        """How many queued replies and faults are still waiting."""
        return len(self._queue)

    def reply(self, reply: ReplyT | Fault | Responder) -> None:
        """Queue a reply object, a fault, or a function of the parsed request returning one."""
        if isinstance(reply, Fault):
            self.reply_fault(reply)
        else:
            self._queue.append(reply)

    def reply_fault(self, fault: Fault) -> None:
        """Queue ``fault`` for the next ``fault.times`` requests (None: until cleared)."""
        self._queue.append(_QueuedFault(fault, fault.times))

    def set_default(self, responder: ReplyT | Responder) -> None:
        """Answer with ``responder`` (object or function of the request) when the queue is empty."""
        self._default = responder

    def clear(self) -> None:
        """Drop every queued reply and fault."""
        self._queue.clear()

    def clear_faults(self) -> None:
        """Drop the queued faults (sticky ones included) and keep the queued replies."""
        self._queue = deque(item for item in self._queue if not isinstance(item, _QueuedFault))

    def take_fault(self) -> Fault | None:
        """Return the fault at the head of the queue (counting it down), or None."""
        head = self._queue[0] if self._queue else None
        if not isinstance(head, _QueuedFault):
            return None
        if head.remaining is not None:
            head.remaining -= 1
            if head.remaining <= 0:
                self._queue.popleft()
        return head.fault

    def _pop_reply_source(self) -> Any:
        """Remove and return the first queued reply (past a delivery fault still counting down)."""
        for index, item in enumerate(self._queue):
            if not isinstance(item, _QueuedFault):
                del self._queue[index]
                return item
        return self._default

    async def take_reply(self, request: Request) -> tuple[ReplyT | None, Fault | None]:
        """Return the next reply for ``request`` and the fault a responder chose, if any.

        A responder that returns an error fault gives ``(None, fault)``; one that returns a
        delivery fault gives the default reply delivered with that fault.
        """
        outcome = await _resolve(self._pop_reply_source(), request)
        if isinstance(outcome, Fault):
            if not outcome.is_delivery:
                return None, outcome
            default = await _resolve(self._default, request)
            return (None, outcome) if isinstance(default, Fault) else (default, outcome)
        return outcome, getattr(outcome, "fault", None)

    async def next_step(
        self,
        request: Request,
        *,
        pause: Callable[[float], Awaitable[None]],
        before_reply: Callable[[], None] | None = None,
    ) -> Step[ReplyT]:
        """Return the step for ``request``: queued fault first, then a reply.

        A ``stall`` fault is served here with ``pause`` *before* a reply is taken, so a client
        that times out and retries gets the reply that was queued. ``before_reply`` runs after the
        fault check and before a reply is taken (the chat route checks the context window there),
        so a rejected request leaves the queue untouched.
        """
        self.requests.append(request)
        fault = self.take_fault()
        if fault is not None and not fault.is_delivery:
            return Step(None, fault)
        if fault is not None and fault.kind == "stall":
            await pause(fault.seconds)
            fault = None
        if before_reply is not None:
            before_reply()
        reply, own_fault = await self.take_reply(request)
        if own_fault is not None and not own_fault.is_delivery:
            return Step(None, own_fault)
        return Step(reply, fault or own_fault)


async def _resolve(source: Any, request: Request) -> Any:
    if callable(source) and not isinstance(source, type):
        result = source(request)
        return await result if inspect.isawaitable(result) else result
    return source


def echo_reply(request: Request) -> TextReply:
    """Default chat responder: ``"echo: <last user text>"``."""
    for message in reversed(request.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return TextReply(f"echo: {_text_of(message.get('content'))}")
    return TextReply("echo: ")


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = (
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
        return " ".join(str(text) for text in texts)
    return ""


class ChatScript(RouteScript[ChatReply]):
    """``emu.chat``: scripted chat completions.

    Attributes:
        chunk_size: default characters per streamed delta (replies may override).
        context_window: when set, a request whose estimated prompt tokens (plus its
            ``max_completion_tokens``) exceed it gets 400 ``context_length_exceeded``.
        profile: the server this route behaves like (``profiles.py``; default OpenAI).
    """

    def __init__(self) -> None:
        super().__init__("/v1/chat/completions", echo_reply)
        self.chunk_size: int = 16
        self.context_window: int | None = None
        self.profile: ServerProfile = OPENAI

    def use_profile(self, profile: str | ServerProfile) -> None:
        """Behave like the server ``profile`` names (see ``profiles.PROFILES``)."""
        self.profile = profile_named(profile)

    def reply_text(self, content: str, **options: Any) -> None:
        """Queue a text answer; ``options`` are :class:`TextReply` fields."""
        self.reply(TextReply(content, **options))

    def reply_tool_calls(self, calls: list[ToolCall], **options: Any) -> None:
        """Queue a tool-calls answer; ``options`` are :class:`ToolCallsReply` fields."""
        self.reply(ToolCallsReply(calls, **options))

    def reply_refusal(self, refusal: str = RefusalReply.refusal, **options: Any) -> None:
        """Queue a refusal (``message.refusal``)."""
        self.reply(RefusalReply(refusal, **options))

    def reply_content_filter(self, partial: str = "", **options: Any) -> None:
        """Queue an answer cut by the content filter (``finish_reason="content_filter"``)."""
        self.reply(TextReply(partial, finish_reason="content_filter", **options))


class ImageScript(RouteScript[ImageReply]):
    """``emu.images`` / ``emu.image_edits``: default one small PNG per requested image."""

    def __init__(self, path: str) -> None:
        super().__init__(path, ImageReply())


class ModerationScript(RouteScript[ModerationReply | list[ModerationReply]]):
    """``emu.moderations``: default not flagged."""

    def __init__(self) -> None:
        super().__init__("/v1/moderations", ModerationReply())


class TranscriptionScript(RouteScript[TranscriptionReply]):
    """``emu.transcriptions``: default transcript is ``default_text``."""

    def __init__(self) -> None:
        super().__init__("/v1/audio/transcriptions", self._default_reply)
        self.default_text = "Hello from the OpenAI emulator."

    def _default_reply(self, request: Request) -> TranscriptionReply:
        return TranscriptionReply(self.default_text)

    def reply_text(self, text: str, **options: Any) -> None:
        """Queue a transcript."""
        self.reply(TranscriptionReply(text, **options))


class SpeechScript(RouteScript[SpeechReply]):
    """``emu.speech``: default silence in the requested ``response_format``."""

    def __init__(self) -> None:
        super().__init__("/v1/audio/speech", SpeechReply())


class RealtimeScript(RouteScript[RealtimeReply]):
    """``emu.realtime``: spoken answers over the Realtime WebSocket (``/v1/realtime``).

    ``requests`` holds one entry per ``response.create``: the session's ``model``, its ``session``
    configuration at that moment, the user ``input`` texts and the ``response`` parameters.
    ``client_events`` and ``server_events`` log every event of every session, in order.
    """

    def __init__(self) -> None:
        super().__init__("/v1/realtime", RealtimeReply())
        self.client_events: list[dict[str, Any]] = []
        self.server_events: list[dict[str, Any]] = []
        self.sessions = 0
        self.dropped = 0


class EmbeddingScript(RouteScript[EmbeddingReply | None]):
    """``emu.embeddings``: default deterministic vectors derived from each input's hash."""

    def __init__(self) -> None:
        super().__init__("/v1/embeddings", _no_reply)


def _no_reply(request: Request) -> None:
    return None
