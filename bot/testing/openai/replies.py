"""Reply objects: what a scripted route answers with.

Chat replies share the keyword-only options of :class:`ChatReplyOptions`: ``chunk_size`` (characters
per streamed delta; None uses the route's default), ``chunk_delay`` (seconds between chunks),
``latency`` (seconds before the first byte; None uses the route's ``latency``), ``usage`` (override
fields of the computed usage), ``model`` (override the echoed model name) and ``fault`` (a delivery
fault for this reply only).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Literal

from .faults import Fault

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "function_call"]


@dataclass(frozen=True)
class ChatReplyOptions:
    """Options every chat reply accepts (keyword-only)."""

    _: KW_ONLY
    chunk_size: int | None = None
    chunk_delay: float = 0.0
    latency: float | None = None
    usage: Mapping[str, int] | None = None
    model: str | None = None
    fault: Fault | None = None


@dataclass(frozen=True)
class TextReply(ChatReplyOptions):
    """An assistant text answer.

    ``content`` may contain ``<think>…</think>`` blocks like reasoning models that inline their
    thoughts; ``reasoning_content`` is sent as the separate ``reasoning_content`` field some
    OpenAI-compatible servers (DeepSeek, vLLM) use.
    """

    content: str
    finish_reason: FinishReason = "stop"
    reasoning_content: str | None = None


@dataclass(frozen=True)
class ToolCall:
    """One function call the model makes.

    ``arguments`` is a dict (sent as JSON) or a raw string, so tests can send malformed JSON.
    ``id`` defaults to a fresh ``call_…`` id.
    """

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    id: str | None = None

    def arguments_text(self) -> str:
        """The ``function.arguments`` string as sent on the wire."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class ToolCallsReply(ChatReplyOptions):
    """The model calls tools (optionally after some text)."""

    calls: Sequence[ToolCall]
    content: str | None = None
    finish_reason: FinishReason = "tool_calls"


@dataclass(frozen=True)
class RefusalReply(ChatReplyOptions):
    """The model refuses (``message.refusal`` set, ``content`` null)."""

    refusal: str = "I'm sorry, but I can't help with that."
    finish_reason: FinishReason = "stop"


ChatReply = TextReply | ToolCallsReply | RefusalReply


@dataclass(frozen=True)
class ImageReply:
    """Images for ``/v1/images/generations`` or ``/v1/images/edits``.

    ``images`` are the bytes to return (default: one small PNG per requested ``n``),
    ``revised_prompt`` is echoed when set.
    """

    images: Sequence[bytes] | None = None
    revised_prompt: str | None = None
    _: KW_ONLY
    latency: float | None = None
    fault: Fault | None = None


MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)


@dataclass(frozen=True)
class ModerationReply:
    """One moderation result, applied to every input item (or give a list, one per item).

    ``categories`` are the flagged category names (e.g. ``["violence"]``); ``scores`` override
    category scores (flagged categories default to 0.9, others to 0.0001). ``flagged`` defaults
    to "any category flagged".
    """

    categories: Sequence[str] = ()
    scores: Mapping[str, float] = field(default_factory=dict)
    flagged: bool | None = None
    _: KW_ONLY
    latency: float | None = None
    fault: Fault | None = None

    def __post_init__(self) -> None:
        unknown = set(self.categories) - set(MODERATION_CATEGORIES)
        if unknown:
            raise ValueError(
                f"unknown moderation categories {sorted(unknown)}: use {MODERATION_CATEGORIES}"
            )


@dataclass(frozen=True)
class TranscriptionReply:
    """A transcript; ``language`` is the verbose_json language name."""

    text: str
    language: str = "english"
    _: KW_ONLY
    latency: float | None = None
    fault: Fault | None = None


@dataclass(frozen=True)
class SpeechReply:
    """Audio for ``/v1/audio/speech``; default: silence in the requested format."""

    audio: bytes | None = None
    content_type: str | None = None
    seconds: float | None = None
    _: KW_ONLY
    latency: float | None = None
    fault: Fault | None = None


@dataclass(frozen=True)
class RealtimeReply:
    """A spoken answer to a Realtime ``response.create``.

    Default: a tone as long as the input text takes to say (15 characters a second, 0.5-10 s),
    in ``chunks`` ``response.output_audio.delta`` events, with the input text as its transcript.
    ``fault=Fault.disconnect(after_chunks=n)`` drops the socket after ``n`` audio deltas;
    an error fault (``Fault.rate_limit()``, ...) answers with an ``error`` event instead.
    """

    seconds: float | None = None
    transcript: str | None = None
    chunks: int = 4
    _: KW_ONLY
    latency: float | None = None
    fault: Fault | None = None


@dataclass(frozen=True)
class EmbeddingReply:
    """Vectors for ``/v1/embeddings``, one per input item; default: deterministic hash vectors."""

    vectors: Sequence[Sequence[float]]
    _: KW_ONLY
    latency: float | None = None
    fault: Fault | None = None
