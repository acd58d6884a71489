"""What the completion loop yields: the Discord side (or any front end) renders these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tools import Artifact
from tools.calls import ToolOutcome


@dataclass
class AnswerUsage:
    """Tokens the server reported, summed over the rounds of one answer."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0
    reasoning_tokens: int = 0  # part of ``completion_tokens``, as the server counts them
    # Tokens the tool definitions added, summed over the requests (part of ``prompt_tokens``);
    # the engine has no token counter: the caller that counts the tool set fills this in.
    tool_schema_tokens: int = 0

    def add(self, prompt_tokens: int, completion_tokens: int, reasoning_tokens: int = 0) -> None:
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        self.reasoning_tokens += reasoning_tokens


@dataclass(frozen=True)
class TextDelta:
    """A piece of the visible answer, in order."""

    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    """A piece of a separate reasoning field: hidden from users unless the owner attaches it."""

    text: str


@dataclass(frozen=True)
class RoundReset:
    """The current round's streamed text is void (the stream was cut and the round is retried).

    ``text`` is the whole visible answer that still stands.
    """

    text: str


@dataclass(frozen=True)
class TextComplete:
    """The model finished the answer's text (its last round ended): no more text will come.

    A front end may show the text whole now, before the turn's bookkeeping ends in a Final.
    """


@dataclass(frozen=True)
class ToolStatus:
    """A tool call started or reported progress; ``text`` is the short line to show while it runs.

    (The tools framework's ``ToolStarted`` and ``ToolProgress``, as the engine passes them on.)
    """

    call_id: str
    name: str
    text: str


@dataclass(frozen=True)
class ToolDone:
    """A tool call finished (whatever its status)."""

    outcome: ToolOutcome


@dataclass
class Final:
    """The answer is complete.

    Attributes:
        text: the whole visible answer as the model wrote it (not yet rendered for Discord).
        new_messages: the assistant and tool messages of this answer, in order, to store.
        usage: tokens reported by the server.
        artifacts: files the tools produced, to attach to the reply.
        reasoning: hidden reasoning text, if any.
        notice: a short line for the user about a limit that shaped the answer, or "".
        notice_key: the notice's message key (the Discord side translates it), or None.
        notice_values: the values of the notice's placeholders.
    """

    text: str
    new_messages: list[dict[str, Any]]
    usage: AnswerUsage
    artifacts: list[Artifact] = field(default_factory=list)
    reasoning: str = ""
    notice: str = ""
    notice_key: str | None = None
    notice_values: dict[str, Any] = field(default_factory=dict)


class StopReason(Protocol):
    """Why a round gate stopped a turn: ``message`` in English, ``key`` names it in the bot's
    catalogues (``bot/i18n``) with ``values`` for its placeholders (a policy's ``Refusal``)."""

    @property
    def message(self) -> str: ...

    @property
    def key(self) -> str | None: ...

    @property
    def values(self) -> Mapping[str, Any]: ...


@dataclass
class Failed:
    """The answer could not be completed; ``user_message`` is safe to show, ``kind`` is for code."""

    kind: str
    user_message: str
    partial_text: str
    new_messages: list[dict[str, Any]]
    usage: AnswerUsage
    artifacts: list[Artifact] = field(default_factory=list)
    message_key: str | None = None  # ``user_message``'s key in the catalogues (``bot/i18n``)
    message_values: dict[str, Any] = field(default_factory=dict)


EngineEvent = (
    TextDelta | ReasoningDelta | RoundReset | TextComplete | ToolStatus | ToolDone | Final | Failed
)
